#include "ops/op_schema.h"
