package gsae.io;

import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** checkpoint.json's optional {@code parallel} field (issue #15): written for multi-process runs, absent for one process. */
class CheckpointParallelTest {

    @Test
    void theModeAndRankCountRoundTrip(@TempDir Path dir) throws IOException {
        Checkpoint c = CheckpointTest.sample(10, 1);
        Checkpoint spread = new Checkpoint(c.sae(), c.train(), c.scales(), c.state(), c.dataPosition(), c.data(), new Parallelism(ParallelMode.DATA, 3));
        spread.save(dir.resolve("dp"));
        assertEquals(new Parallelism(ParallelMode.DATA, 3), Checkpoint.load(dir.resolve("dp")).parallel());

        c.save(dir.resolve("one"));
        assertFalse(Files.readString(dir.resolve("one").resolve(Checkpoint.META)).contains("parallel"), "one process writes no field");
        assertEquals(Parallelism.SINGLE, Checkpoint.load(dir.resolve("one")).parallel());
    }

    @Test
    void aDamagedFieldNamesItself(@TempDir Path dir) throws IOException {
        Checkpoint c = CheckpointTest.sample(10, 1);
        new Checkpoint(c.sae(), c.train(), c.scales(), c.state(), c.dataPosition(), c.data(), new Parallelism(ParallelMode.DATA, 2)).save(dir);
        Path meta = dir.resolve(Checkpoint.META);
        Files.writeString(meta, Files.readString(meta).replace("\"mode\" : \"data\"", "\"mode\" : \"tensor\""));
        DataException e = assertThrows(DataException.class, () -> Checkpoint.load(dir));
        assertTrue(e.getMessage().contains("parallel"), e.getMessage());
    }
}
