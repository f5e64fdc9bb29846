/**
 * Training steps spread over the ranks of a {@link gsae.comm.Collectives} group (issue #15), built
 * on the stage primitives of {@link gsae.ops.Ops}: each equals {@link gsae.ops.HostTrainingStep} on
 * the global batch up to the order of floating-point sums.
 */
package gsae.parallel;
