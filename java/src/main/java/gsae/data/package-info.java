/** Where tokens come from: shard datasets on disk and the embedded synthetic teacher. */
package gsae.data;
