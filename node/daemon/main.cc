// hansa-node: the node (security server) daemon. All wiring lives in node_daemon.cc.

#include "node/daemon/node_daemon.h"

int main(int argc, char** argv) { return hansa::node::node_main(argc, argv); }
