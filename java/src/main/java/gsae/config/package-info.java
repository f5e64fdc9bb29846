/** Validated configuration records: what an SAE is and how it is trained, checked once at construction. */
package gsae.config;
