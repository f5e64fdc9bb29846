// The emulated device serves <mma.h> from cuda_emu.h (force-included).
#pragma once
#include "cuda_emu.h"
