/** Training and evaluation: the trainer loop, schedules, scale estimation, checkpoints' use and metrics; no prints, hooks or figures (the command line adds those). */
package gsae.train;
