/**
 * Collective operations across the processes (ranks) of one run: the {@link gsae.comm.Collectives}
 * interface and its implementations (one process; MPI over host memory; NCCL over device memory).
 */
package gsae.comm;
