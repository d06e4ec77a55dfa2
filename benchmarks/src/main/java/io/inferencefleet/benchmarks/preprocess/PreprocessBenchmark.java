package io.inferencefleet.benchmarks.preprocess;

import io.inferencefleet.worker.preprocess.ImagePreprocessor;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.preprocess.PreprocessStatus;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfInt;
import org.opencv.core.Rect;
import org.opencv.core.Size;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;

/**
 * Cost of one {@code preprocess} call (decode included) with the crop-only resampling of {@link ImagePreprocessor}
 * ("new") against the full resize it replaced ("old", reproduced below), per input: wall time and the extra
 * resident memory the call needed (peak {@code VmHWM} during the call minus {@code VmRSS} before it; the peak is
 * reset through {@code /proc/self/clear_refs} before every call). Old and new alternate within each round, their
 * order flipping from round to round, and the report gives medians, so a slow second vCPU or a neighbour's build
 * hits both alike.
 *
 * <pre>
 * benchmarks/run-preprocess-benchmark.sh [rounds=5] [oldSliverRounds=3] [photo=/work/shared/images/aero1.jpg]
 * </pre>
 * The old path needs about 20 s and 7 GB for the 1x30000 PNG, so it runs on that input only in the first
 * {@code oldSliverRounds} rounds. Both paths read the image header first, as the worker did before and does now
 * (old: ImageIO's width and height, as the old probe did; new: the probe, which also counts JPEG scans).
 */
public final class PreprocessBenchmark {
    private static final int CALLS_PER_ROUND = 10;
    private static final double MIB = 1024.0 * 1024.0;

    private PreprocessBenchmark() {}

    public static void main(String[] args) throws IOException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int oldSliverRounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path photo = Path.of(args.length > 2 ? args[2] : "/work/shared/images/aero1.jpg");
        nu.pattern.OpenCV.loadLocally();
        printMachine();

        // The worker refuses a 1x30000 image by default (maxAspectRatio 100); lifted here to measure the resampling.
        PreprocessConfig config = PreprocessConfig.imageNet().withMaxAspectRatio(1e6);
        Map<String, byte[]> inputs = inputs(photo);
        ByteBuffer target = ByteBuffer.allocateDirect(config.tensorBytes()).order(ByteOrder.nativeOrder());
        Map<String, List<Long>> nanos = new LinkedHashMap<>();
        Map<String, List<Long>> extraBytes = new LinkedHashMap<>();
        boolean peakResettable = resetPeak();
        try (ImagePreprocessor fresh = new ImagePreprocessor(config); FullResize old = new FullResize(config)) {
            for (Map.Entry<String, byte[]> input : inputs.entrySet()) {  // warm-up: JIT, OpenCV's thread pool
                for (int i = 0; i < 20; i++) {
                    check(fresh.preprocess(input.getValue(), target.clear()), fresh.lastDetail());
                    if (!input.getKey().startsWith("1x30000")) {
                        check(old.preprocess(input.getValue(), target.clear()), "old");
                    }
                }
            }
            for (int round = 0; round < rounds; round++) {
                for (Map.Entry<String, byte[]> input : inputs.entrySet()) {
                    boolean sliver = input.getKey().startsWith("1x30000");
                    boolean runOld = !sliver || round < oldSliverRounds;
                    int calls = sliver ? 1 : CALLS_PER_ROUND;
                    for (int side = 0; side < 2; side++) {
                        boolean oldFirst = round % 2 == 0;
                        boolean isOld = (side == 0) == oldFirst;
                        if (isOld && !runOld) {
                            continue;
                        }
                        String key = input.getKey() + "|" + (isOld ? "old" : "new");
                        for (int call = 0; call < calls; call++) {
                            resetPeak();
                            long before = status("VmRSS:");
                            long start = System.nanoTime();
                            PreprocessStatus status = isOld ? old.preprocess(input.getValue(), target.clear())
                                    : fresh.preprocess(input.getValue(), target.clear());
                            long elapsed = System.nanoTime() - start;
                            long peak = peakResettable ? status("VmHWM:") : status("VmRSS:");
                            check(status, isOld ? "old" : fresh.lastDetail());
                            nanos.computeIfAbsent(key, k -> new ArrayList<>()).add(elapsed);
                            extraBytes.computeIfAbsent(key, k -> new ArrayList<>()).add(Math.max(0, peak - before));
                        }
                    }
                }
                System.out.printf(Locale.ROOT, "round %d/%d done%n", round + 1, rounds);
            }
        }
        System.out.println();
        System.out.println("| input | bytes | path | calls | median ms | min ms | max ms | median extra RSS MiB"
                + " | max extra RSS MiB |");
        System.out.println("|---|---:|---|---:|---:|---:|---:|---:|---:|");
        for (String key : nanos.keySet()) {
            String[] parts = key.split("\\|");
            long[] t = sorted(nanos.get(key));
            long[] m = sorted(extraBytes.get(key));
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %d | %.2f | %.2f | %.2f | %.1f | %.1f |%n", parts[0],
                    inputs.get(parts[0]).length, parts[1], t.length, median(t) / 1e6, t[0] / 1e6,
                    t[t.length - 1] / 1e6, median(m) / MIB, m[m.length - 1] / MIB);
        }
        System.out.println();
        for (String name : inputs.keySet()) {
            List<Long> o = nanos.get(name + "|old");
            List<Long> n = nanos.get(name + "|new");
            if (o != null && n != null) {
                System.out.printf(Locale.ROOT, "%s: old/new median time = %.2f%n", name,
                        median(sorted(o)) / median(sorted(n)));
            }
        }
        if (!peakResettable) {
            System.out.println("(could not reset VmHWM through /proc/self/clear_refs: extra RSS is VmRSS after"
                    + " minus before)");
        }
    }

    /** A generated 1x30000 PNG of noise (as issue 11 measured), a 224x224 JPEG, a photo, and a 12 MP JPEG. */
    private static Map<String, byte[]> inputs(Path photo) throws IOException {
        Map<String, byte[]> inputs = new LinkedHashMap<>();
        Mat sliver = new Mat(30_000, 1, CvType.CV_8UC3);
        Core.setRNGSeed(1);
        Core.randu(sliver, 0, 256);
        inputs.put("1x30000 PNG", encode(".png", sliver));
        byte[] photoBytes = Files.readAllBytes(photo);
        Mat decoded = Imgcodecs.imdecode(new MatOfByte(photoBytes), Imgcodecs.IMREAD_COLOR);
        Mat small = new Mat();
        Imgproc.resize(decoded, small, new Size(224, 224), 0, 0, Imgproc.INTER_AREA);
        inputs.put("224x224 JPEG", encode(".jpg", small));
        inputs.put(decoded.cols() + "x" + decoded.rows() + " photo " + photo.getFileName(), photoBytes);
        Mat large = new Mat();
        Imgproc.resize(decoded, large, new Size(4000, 3000), 0, 0, Imgproc.INTER_CUBIC);
        inputs.put("4000x3000 JPEG", encode(".jpg", large));
        for (Mat m : new Mat[] {sliver, decoded, small, large}) {
            m.release();
        }
        return inputs;
    }

    private static byte[] encode(String extension, Mat image) {
        MatOfByte out = new MatOfByte();
        Imgcodecs.imencode(extension, image, out, new MatOfInt(Imgcodecs.IMWRITE_JPEG_QUALITY, 90));
        byte[] bytes = out.toArray();
        out.release();
        return bytes;
    }

    /**
     * ImagePreprocessor's pipeline before the crop-only resampling: decode, resize the whole image so its short side
     * is {@code resizeShortSide}, crop the centre, scale, normalise, CHW into the target. Kept here (and as
     * {@code ReferencePreprocessing} in the worker's tests) only to be measured against.
     */
    static final class FullResize implements AutoCloseable {
        private final PreprocessConfig config;
        private final Mat resized = new Mat();
        private final Mat scaled = new Mat();

        FullResize(PreprocessConfig config) {
            this.config = config;
        }

        PreprocessStatus preprocess(byte[] encoded, ByteBuffer target) {
            if (!headerReadable(encoded)) {
                return PreprocessStatus.UNDECODABLE;
            }
            MatOfByte bytes = new MatOfByte(encoded);
            Mat bgr = Imgcodecs.imdecode(bytes, Imgcodecs.IMREAD_COLOR | Imgcodecs.IMREAD_ANYDEPTH);
            try {
                if (bgr.empty()) {
                    return PreprocessStatus.UNDECODABLE;
                }
                double scale = bgr.depth() == CvType.CV_16U ? config.scale() / 257.0 : config.scale();
                int crop = config.cropSize();
                double ratio = (double) config.resizeShortSide() / Math.min(bgr.cols(), bgr.rows());
                int width = (int) Math.round(bgr.cols() * ratio);
                int height = (int) Math.round(bgr.rows() * ratio);
                Imgproc.resize(bgr, resized, new Size(width, height), 0, 0, Imgproc.INTER_LINEAR);
                Mat cropped = resized.submat(new Rect((width - crop) / 2, (height - crop) / 2, crop, crop));
                try {
                    cropped.convertTo(scaled, CvType.CV_32F, scale);
                } finally {
                    cropped.release();
                }
                int planeBytes = crop * crop * Float.BYTES;
                int base = target.position();
                for (int c = 0; c < 3; c++) {
                    Mat plane = new Mat(crop, crop, CvType.CV_32FC1, target.slice(base + c * planeBytes, planeBytes));
                    try {
                        Core.extractChannel(scaled, plane, config.rgb() ? 2 - c : c);
                        plane.convertTo(plane, -1, 1.0 / config.std(c), -config.mean(c) / config.std(c));
                    } finally {
                        plane.release();
                    }
                }
                // resized stays allocated between calls, as in the old code: after a 1x30000 image the worker held
                // its 5.9 GB intermediate until the next image came.
                return PreprocessStatus.OK;
            } finally {
                bgr.release();
                bytes.release();
            }
        }

        /** What the old probe did before decoding: width and height from ImageIO. */
        private static boolean headerReadable(byte[] encoded) {
            try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(encoded))) {
                Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
                if (!readers.hasNext()) {
                    return false;
                }
                ImageReader reader = readers.next();
                try {
                    reader.setInput(in, true, true);
                    return reader.getWidth(0) > 0 && reader.getHeight(0) > 0;
                } finally {
                    reader.dispose();
                }
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public void close() {
            resized.release();
            scaled.release();
        }
    }

    private static void check(PreprocessStatus status, String detail) {
        if (status != PreprocessStatus.OK) {
            throw new IllegalStateException("preprocessing failed: " + status + " " + detail);
        }
    }

    /** Resets VmHWM to the current RSS (Linux 4.0+); false where the kernel or permissions refuse. */
    private static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** A {@code /proc/self/status} field in bytes (the file gives kB). */
    private static long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }

    private static void printMachine() {
        List<String> cpuinfo = lines("/proc/cpuinfo");
        String model = field(cpuinfo, "model name");
        String mhz = field(cpuinfo, "cpu MHz");
        List<String> flags = Arrays.asList(field(cpuinfo, "flags").split(" "));
        System.out.printf(Locale.ROOT, "CPU: %s, %s MHz, %d CPUs for the JVM, avx2=%b fma=%b avx512f=%b%n", model, mhz,
                Runtime.getRuntime().availableProcessors(), flags.contains("avx2"), flags.contains("fma"),
                flags.contains("avx512f"));
        System.out.printf(Locale.ROOT, "JVM: %s %s; OpenCV %s (IPP %b); load average %s%n",
                System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"), Core.VERSION,
                Core.useIPP(), String.join(" ", lines("/proc/loadavg")));
    }

    private static String field(List<String> lines, String name) {
        return lines.stream().filter(l -> l.startsWith(name)).findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file));
        } catch (IOException e) {
            return List.of();
        }
    }

    private static long[] sorted(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    private static double median(long[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }
}
