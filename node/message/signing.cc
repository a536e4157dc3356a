#include "node/message/signing.h"
