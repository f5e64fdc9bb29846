package gsae.comm;

/** The element types a collective moves, with their sizes in bytes. */
public enum ElementType {
    F32(4), F64(8), I32(4), I64(8), U8(1);

    /** Bytes per element. */
    public final int size;

    ElementType(int size) {
        this.size = size;
    }
}
