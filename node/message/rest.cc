#include "node/message/rest.h"
