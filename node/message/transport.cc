#include "node/message/transport.h"
