// The emulated device serves <cuda_bf16.h> from cuda_emu.h (force-included).
#pragma once
#include "cuda_emu.h"
