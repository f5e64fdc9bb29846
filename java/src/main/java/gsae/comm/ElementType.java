package gsae.comm;

import java.lang.foreign.MemorySegment;

/** The element types a collective moves, with their sizes in bytes. */
public enum ElementType {
    F32(4), F64(8), I32(4), I64(8), U8(1);

    /** Bytes per element. */
    public final int size;

    ElementType(int size) {
        this.size = size;
    }

    /** The elements of this type in {@code buf}; refuses a size that is not a whole number of them. */
    public long count(MemorySegment buf) {
        if (buf.byteSize() % size != 0)
            throw new IllegalArgumentException(buf.byteSize() + " bytes is not a whole number of " + this + " elements");
        return buf.byteSize() / size;
    }
}
