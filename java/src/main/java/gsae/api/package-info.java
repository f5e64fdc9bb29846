/**
 * gsae as a library: the one package a trainer that embeds gsae imports.
 *
 * <p>{@link gsae.api.SaeTrainer#builder} configures an SAE and how it trains; the trainer then takes
 * the caller's own (x, g) batches one {@link gsae.api.SaeTrainer#step step} at a time and returns
 * each step's {@link gsae.api.Metrics}. {@link gsae.api.Sae} is a trained SAE frozen for inference
 * (encode, decode, reconstruct), safe to share between threads. Checkpoints written here resume
 * here and in {@code gsae train --resume}; exports load in SAELens and sparsify.
 *
 * <p>The {@code gsae} command line is a client of this package too, through its whole-run entry
 * points: {@link gsae.api.DataRun} (training on shards or the embedded teacher into a run folder),
 * {@link gsae.api.Evaluation} (SPEC §7 on held-out tokens), {@link gsae.api.StepBench} (timed steps),
 * {@link gsae.api.StepDump} (SPEC §9 on files), all on an {@link gsae.api.Engine}, the backend chosen
 * once. These take a stream for the one line that says why AUTO fell back to the CPU, and report
 * what the user can fix as {@code gsae.config.UserError}s naming the {@code gsae} option.
 *
 * <p>A run can be spread over the processes of an MPI launch ({@link gsae.api.Parallel},
 * {@link gsae.api.Group}): {@code SaeTrainer.Builder.parallel} and {@code DataRun.open}'s
 * overload take the mode and the group, which the caller opens ({@code Group.fromEnvironment()}).
 *
 * <p>Nothing here prints, exits or installs shutdown hooks; what the library has to say goes to
 * {@link java.lang.System.Logger} under the names of its classes. Errors in what the caller passes
 * are {@link java.lang.IllegalArgumentException}s whose message names the option or argument.
 */
package gsae.api;
