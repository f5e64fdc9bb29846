/** Training and evaluation: the trainer loop, schedules, scale estimation, checkpoints' use, metrics and plots. */
package gsae.train;
