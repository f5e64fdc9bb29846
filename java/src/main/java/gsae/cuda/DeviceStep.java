package gsae.cuda;

import gsae.ops.Params;
import gsae.ops.StateChunks;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

/**
 * What the device's training steps share: their {@link DeviceState}, read back as {@link
 * TrainingStep} asks, and the ranks of a multi-process run (null in one process), closed with it.
 */
abstract sealed class DeviceStep implements TrainingStep permits CudaTrainingStep, CudaShardedStep {

    final DeviceState state;
    final DeviceRanks ranks;

    DeviceStep(DeviceState state, DeviceRanks ranks) {
        this.state = state;
        this.ranks = ranks;
    }

    /**
     * The state downloaded into one set of host arrays, reused by every call (a run that adopted
     * its initial state holds no other host copy): valid until the next call or {@link #step}.
     */
    @Override
    public TrainState state() {
        return state.state();
    }

    /** The parameters downloaded into the host arrays {@link #state} uses, reused by every call. */
    @Override
    public Params params() {
        return state.params();
    }

    @Override
    public TrainState snapshot() {
        return state.snapshot();
    }

    /** The device state read a page-locked buffer at a time, in whatever chunks the reader asks for. */
    @Override
    public StateChunks chunks() {
        return state.chunks();
    }

    @Override
    public void close() {
        try (DeviceRanks r = ranks) {
            state.close();
        }
    }
}
