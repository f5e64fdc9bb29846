/** The gsae command line: one picocli command per verb, each a thin shell over the library. */
package gsae.cli;
