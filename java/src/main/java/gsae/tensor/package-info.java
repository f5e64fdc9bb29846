/** Host tensors as FFM memory segments: element types, shapes and conversion to float32. */
package gsae.tensor;
