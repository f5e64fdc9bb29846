package gsae.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static gsae.cli.CliTest.assertOneLineError;
import static gsae.cli.CliTest.gsae;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code gsae train --parallel} in one process (issue #15): the choices, and what a checkpoint's mode asks of a resume. */
class ParallelOptionTest {

    @TempDir
    Path tmp;

    private CliTest.Run train(String out, String... more) {
        String[] base = {"train", "--out", tmp.resolve(out).toString(), "--latents", "16", "--k", "2", "--steps", "3", "--batch", "16",
                "--threads", "1", "--quiet", "--backend", "cpu"};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return gsae(all);
    }

    @Test
    void anUnknownModeNamesTheOption() {
        assertOneLineError(train("a", "--parallel", "tensor"), "--parallel");
    }

    @Test
    void latentShardedAndOneProcessCheckpointsResumeInEitherMode() {
        CliTest.Run first = train("b", "--parallel", "latents");
        assertEquals(0, first.code(), first.err());
        CliTest.Run none = gsae("train", "--out", tmp.resolve("b").toString(), "--resume", "--steps", "5", "--quiet");
        assertEquals(0, none.code(), none.err());
        CliTest.Run latents = gsae("train", "--out", tmp.resolve("b").toString(), "--resume", "--steps", "7", "--quiet", "--parallel", "latents");
        assertEquals(0, latents.code(), latents.err());
        assertOneLineError(gsae("train", "--out", tmp.resolve("b").toString(), "--resume", "--steps", "9", "--quiet", "--parallel", "data"),
                "latent-sharded over 1 rank");
    }

    @Test
    void aDataParallelCheckpointResumesOnlyAsItWasWritten() {
        CliTest.Run first = train("c", "--parallel", "data");
        assertEquals(0, first.code(), first.err());
        assertOneLineError(gsae("train", "--out", tmp.resolve("c").toString(), "--resume", "--steps", "5", "--quiet"),
                "written by a run data-parallel over 1 rank");
        CliTest.Run resumed = gsae("train", "--out", tmp.resolve("c").toString(), "--resume", "--steps", "5", "--quiet", "--parallel", "data");
        assertEquals(0, resumed.code(), resumed.err());
    }
}
