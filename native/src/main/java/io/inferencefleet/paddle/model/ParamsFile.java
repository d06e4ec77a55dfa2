package io.inferencefleet.paddle.model;

import com.google.protobuf.InvalidProtocolBufferException;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads, writes and validates combined Paddle parameter files ({@code .pdiparams}); the layout is
 * in {@link ParamsLayout}. Validation only walks the headers, so checking a 100 MB file is cheap
 * enough to do before every model load.
 *
 * <pre>{@code
 * ModelInfo model = ModelReader.read(files.modelFile());
 * ParamsFile.validate(files.paramsFile(), model);       // throws InvalidModelException
 * Map<String, float[]> weights = ParamsFile.read(files.paramsFile(), model);
 * }</pre>
 */
public final class ParamsFile {
    private static final int IO_BUFFER_BYTES = 1 << 20;

    private ParamsFile() {
    }

    /**
     * Writes {@code tensors} in the order Paddle expects (sorted by name), replacing the file.
     *
     * @throws IllegalArgumentException if two tensors share a name
     */
    public static void write(Path file, Collection<FloatTensor> tensors) throws IOException {
        List<FloatTensor> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparing(FloatTensor::name));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).name().equals(sorted.get(i - 1).name())) {
                throw new IllegalArgumentException("duplicate tensor " + sorted.get(i).name());
            }
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(IO_BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (FloatTensor t : sorted) {
                byte[] desc = tensorDesc(VarType.Type.FP32, t.dims()).toByteArray();
                ensureRoom(ch, buf, 4 + 8 + 4 + 4 + desc.length);
                buf.putInt(ParamsLayout.LOD_TENSOR_VERSION).putLong(0L).putInt(ParamsLayout.TENSOR_VERSION)
                        .putInt(desc.length).put(desc);
                float[] data = t.data();
                int pos = 0;
                while (pos < data.length) {
                    ensureRoom(ch, buf, Float.BYTES);
                    int n = Math.min(data.length - pos, buf.remaining() / Float.BYTES);
                    buf.asFloatBuffer().put(data, pos, n);
                    buf.position(buf.position() + n * Float.BYTES);
                    pos += n;
                }
            }
            flush(ch, buf);
        }
    }

    /**
     * Checks that {@code params} holds exactly the parameters {@code model} declares, with matching
     * type and dims, and nothing more. Seeks over the data.
     *
     * @throws InvalidModelException naming the variable and the expected versus actual value
     */
    public static void validate(Path params, ModelInfo model) {
        walk(params, model, (spec, ch, offset, bytes) -> { });
    }

    /**
     * Reads every parameter as FP32, keyed by name in file order.
     *
     * @throws InvalidModelException if the file does not match the model or holds non-FP32 tensors
     */
    public static Map<String, float[]> read(Path params, ModelInfo model) {
        Map<String, float[]> values = new LinkedHashMap<>();
        // One staging buffer for the whole file: a direct buffer per tensor would pin memory until GC.
        ByteBuffer buf = ByteBuffer.allocateDirect(IO_BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        walk(params, model, (spec, ch, offset, bytes) -> {
            if (spec.dataType() != VarType.Type.FP32) {
                throw new InvalidModelException(params, "parameter '" + spec.name() + "' is " + spec.dataType()
                        + "; only FP32 parameters can be read");
            }
            float[] data = new float[Math.toIntExact(bytes / Float.BYTES)];
            long pos = offset;
            int filled = 0;
            while (filled < data.length) {
                buf.clear();
                buf.limit((int) Math.min(buf.capacity(), (long) (data.length - filled) * Float.BYTES));
                while (buf.hasRemaining()) {
                    int n = ch.read(buf, pos);
                    if (n < 0) {
                        throw new InvalidModelException(params, "unexpected end of file in '" + spec.name() + "'");
                    }
                    pos += n;
                }
                buf.flip();
                int count = buf.remaining() / Float.BYTES;
                buf.asFloatBuffer().get(data, filled, count);
                filled += count;
            }
            values.put(spec.name(), data);
        });
        return values;
    }

    static VarType.TensorDesc tensorDesc(VarType.Type type, long[] dims) {
        VarType.TensorDesc.Builder desc = VarType.TensorDesc.newBuilder().setDataType(type);
        Arrays.stream(dims).forEach(desc::addDims);
        return desc.build();
    }

    /** Called for each tensor once its header has been checked; the data is at {@code offset}. */
    private interface TensorVisitor {
        void visit(TensorSpec spec, FileChannel ch, long offset, long bytes) throws IOException;
    }

    private static void walk(Path params, ModelInfo model, TensorVisitor visitor) {
        try (FileChannel ch = FileChannel.open(params, StandardOpenOption.READ)) {
            new HeaderWalker(params, ch).walk(model, visitor);
        } catch (IOException e) {
            throw new InvalidModelException(params, "cannot read params file: " + e.getMessage(), e);
        }
    }

    /** Reads headers at explicit positions so data can be skipped by arithmetic, not by reading. */
    private static final class HeaderWalker {
        private final Path file;
        private final FileChannel ch;
        private final long size;
        private final ByteBuffer small = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        private long pos;
        private String current = "";

        HeaderWalker(Path file, FileChannel ch) throws IOException {
            this.file = file;
            this.ch = ch;
            this.size = ch.size();
        }

        void walk(ModelInfo model, TensorVisitor visitor) throws IOException {
            for (TensorSpec expected : model.parameters()) {
                current = expected.name();
                long start = pos;
                int lodVersion = readInt();
                if (lodVersion != ParamsLayout.LOD_TENSOR_VERSION) {
                    throw problem("unsupported LoDTensor version " + lodVersion + " at offset " + start);
                }
                long lodLevels = readLong();
                if (lodLevels < 0 || lodLevels > 16) {
                    throw problem("implausible LoD level count " + lodLevels + " at offset " + (start + 4));
                }
                for (long level = 0; level < lodLevels; level++) {
                    skip(readLong(), "LoD level " + level);
                }
                int tensorVersion = readInt();
                if (tensorVersion != ParamsLayout.TENSOR_VERSION) {
                    throw problem("unsupported tensor version " + tensorVersion);
                }
                int descLength = readInt();
                if (descLength <= 0 || descLength > ParamsLayout.MAX_TENSOR_DESC_BYTES) {
                    throw problem("implausible TensorDesc length " + descLength + " at offset " + (pos - 4));
                }
                VarType.TensorDesc desc = parseDesc(readBytes(descLength));
                checkMatches(expected, desc);
                long dataBytes = expected.elementCount() * DataTypes.elementBytes(expected.dataType());
                long dataOffset = pos;
                skip(dataBytes, "data (" + expected.elementCount() + " x " + expected.dataType() + ")");
                visitor.visit(expected, ch, dataOffset, dataBytes);
            }
            if (pos != size) {
                throw new InvalidModelException(file, (size - pos) + " trailing bytes after the last of "
                        + model.parameters().size() + " parameters (file has " + size + " bytes, expected " + pos
                        + "); the params file does not belong to " + model.source());
            }
        }

        private void checkMatches(TensorSpec expected, VarType.TensorDesc desc) {
            long[] dims = desc.getDimsList().stream().mapToLong(Long::longValue).toArray();
            if (desc.getDataType() != expected.dataType() || !Arrays.equals(dims, expected.dims())) {
                throw problem("file holds " + desc.getDataType() + Arrays.toString(dims) + " but the model declares "
                        + expected.dataType() + Arrays.toString(expected.dims()));
            }
        }

        private VarType.TensorDesc parseDesc(byte[] bytes) {
            try {
                return VarType.TensorDesc.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                throw problem("corrupt TensorDesc: " + e.getMessage());
            }
        }

        private int readInt() throws IOException {
            fill(4);
            return small.getInt(0);
        }

        private long readLong() throws IOException {
            fill(8);
            return small.getLong(0);
        }

        private void fill(int n) throws IOException {
            small.clear().limit(n);
            readFully(small, n + "-byte header field");
        }

        private byte[] readBytes(int n) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(n);
            readFully(buf, "TensorDesc");
            return buf.array();
        }

        private void readFully(ByteBuffer buf, String what) throws IOException {
            int wanted = buf.remaining();
            if (pos + wanted > size) {
                throw truncated(what, wanted);
            }
            while (buf.hasRemaining()) {
                if (ch.read(buf, pos + buf.position()) < 0) {
                    throw truncated(what, wanted);
                }
            }
            pos += wanted;
        }

        private void skip(long n, String what) {
            if (n < 0 || pos + n > size) {
                throw truncated(what, n);
            }
            pos += n;
        }

        private InvalidModelException truncated(String what, long wanted) {
            return problem("truncated: " + what + " needs " + wanted + " bytes at offset " + pos + " but the file has "
                    + size + " bytes");
        }

        private InvalidModelException problem(String what) {
            return new InvalidModelException(file, "parameter '" + current + "': " + what);
        }
    }

    private static void ensureRoom(FileChannel ch, ByteBuffer buf, int bytes) throws IOException {
        if (buf.remaining() < bytes) {
            flush(ch, buf);
        }
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }
}
