// hansa-central: the central server daemon. All wiring lives in central_daemon.cc.

#include "central/daemon/central_daemon.h"

int main(int argc, char** argv) { return hansa::central::central_main(argc, argv); }
