#include "node/message/soap.h"
