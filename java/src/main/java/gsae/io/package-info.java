/** File formats: safetensors and NumPy .npy through memory mapping, checkpoints and model export. */
package gsae.io;
