/** The gsae command line: one picocli command per verb over gsae.api (ApiOnlyTest keeps it to that), plus what only a terminal user needs: the progress display, the message on Ctrl-C, the figures. */
package gsae.cli;
