package io.inferencefleet.shm.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * The queue's counters: Agrona counters in a memory-mapped file in the queue directory, so any
 * process (and {@code QueueCountersReader}) can read them.
 *
 * <pre>
 *  +----------------------------------------+  0
 *  | magic 'FCNT' | version | ownerPid (64)  |
 *  | metadataLength | valuesLength | ...     |  (header: 64 bytes)
 *  +----------------------------------------+  64
 *  | Agrona counter metadata                |  MAX_COUNTERS x 512
 *  +----------------------------------------+  64 + metadataLength
 *  | Agrona counter values                  |  MAX_COUNTERS x 128
 *  +----------------------------------------+
 * </pre>
 */
public final class CountersFile implements AutoCloseable {
    public static final String FILE_NAME = "counters.dat";
    public static final int MAGIC = 0x46434E54;  // "FCNT"
    public static final int VERSION = 1;
    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int OWNER_PID_OFFSET = 8;
    public static final int METADATA_LENGTH_OFFSET = 16;
    public static final int VALUES_LENGTH_OFFSET = 20;
    public static final int HEADER_LENGTH = 64;
    public static final int MAX_COUNTERS = 96;
    public static final int METADATA_LENGTH = MAX_COUNTERS * CountersReader.METADATA_LENGTH;
    public static final int VALUES_LENGTH = MAX_COUNTERS * CountersReader.COUNTER_LENGTH;
    public static final int FILE_LENGTH = HEADER_LENGTH + METADATA_LENGTH + VALUES_LENGTH;

    // Counter type ids.
    public static final int TENSORS_WRITTEN = 1;
    public static final int BYTES_WRITTEN = 2;
    public static final int BACK_PRESSURE_EVENTS = 3;
    public static final int QUEUE_DEPTH_TENSORS = 4;
    public static final int QUEUE_DEPTH_BYTES = 5;
    public static final int PREFAULTED_BYTES = 6;
    public static final int CYCLES_DELETED = 7;
    public static final int PREFAULT_FAILURES = 8;
    public static final int READER_TENSORS = 10;
    public static final int READER_BYTES = 11;
    public static final int READER_CYCLE = 12;
    public static final int READER_LAST_INDEX = 13;

    private final MappedByteBuffer mapped;
    private final UnsafeBuffer header;
    private final UnsafeBuffer metadata;
    private final UnsafeBuffer values;
    private final CountersManager manager;  // owner only
    private final CountersReader reader;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CountersFile(MappedByteBuffer mapped, boolean create) {
        this.mapped = mapped;
        this.header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        if (!create) {
            if (header.getIntVolatile(MAGIC_OFFSET) != MAGIC || header.getInt(VERSION_OFFSET) != VERSION
                    || header.getInt(METADATA_LENGTH_OFFSET) != METADATA_LENGTH
                    || header.getInt(VALUES_LENGTH_OFFSET) != VALUES_LENGTH) {
                IoUtil.unmap(mapped);
                throw new IllegalStateException("counters file has magic=" + Integer.toHexString(header.getInt(MAGIC_OFFSET))
                        + " version=" + header.getInt(VERSION_OFFSET) + " metadataLength=" + header.getInt(METADATA_LENGTH_OFFSET)
                        + " valuesLength=" + header.getInt(VALUES_LENGTH_OFFSET) + ", expected version=" + VERSION
                        + " metadataLength=" + METADATA_LENGTH + " valuesLength=" + VALUES_LENGTH);
            }
        }
        this.metadata = new UnsafeBuffer(mapped, HEADER_LENGTH, METADATA_LENGTH);
        this.values = new UnsafeBuffer(mapped, HEADER_LENGTH + METADATA_LENGTH, VALUES_LENGTH);
        if (create) {
            header.putLong(OWNER_PID_OFFSET, ProcessHandle.current().pid());
            header.putInt(VERSION_OFFSET, VERSION);
            header.putInt(METADATA_LENGTH_OFFSET, METADATA_LENGTH);
            header.putInt(VALUES_LENGTH_OFFSET, VALUES_LENGTH);
            this.manager = new CountersManager(metadata, values);
            header.putIntVolatile(MAGIC_OFFSET, MAGIC);
            this.reader = manager;
        } else {
            this.manager = null;
            this.reader = new CountersReader(metadata, values);
        }
    }

    /** Creates (truncating) the file as its owner. */
    public static CountersFile create(Path file) {
        return new CountersFile(map(file, true), true);
    }

    /** Maps an existing file to read counters and update reader counters. */
    public static CountersFile attach(Path file) {
        return new CountersFile(map(file, false), false);
    }

    private static MappedByteBuffer map(Path file, boolean create) {
        try (FileChannel channel = create
                ? FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (!create && channel.size() < FILE_LENGTH) {
                throw new IllegalStateException("counters file " + file + " has " + channel.size() + " bytes, expected " + FILE_LENGTH);
            }
            return channel.map(FileChannel.MapMode.READ_WRITE, 0, FILE_LENGTH);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map counters file " + file, e);
        }
    }

    public AtomicCounter newCounter(String label, int typeId) {
        if (manager == null) {
            throw new IllegalStateException("only the owner allocates counters");
        }
        return manager.newCounter(label, typeId);
    }

    /** The counter with this label, as a writable view (no allocation in the file). */
    public AtomicCounter find(String label) {
        int[] found = {-1};
        reader.forEach((id, type, key, l) -> {
            if (l.equals(label)) {
                found[0] = id;
            }
        });
        if (found[0] < 0) {
            throw new IllegalStateException("no counter labelled " + label);
        }
        return new AtomicCounter(values, found[0]);
    }

    public CountersReader reader() {
        return reader;
    }

    public long ownerPid() {
        return header.getLong(OWNER_PID_OFFSET);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            IoUtil.unmap(mapped);
        }
    }
}
