#include "node/message/metaservices.h"
