package io.inferencefleet.worker.invariant;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.Scalar;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Image files for the invariant suite, written once into a directory: the shared photos as they
 * are, and derived from them truncations at many points, bit flips, headers edited to huge
 * dimensions, extreme aspect ratios, odd formats and depths, empty files and random bytes.
 */
final class HostileImages {
    private HostileImages() {}

    /** Writes the files (OpenCV must be loaded) and returns them. */
    static List<Path> write(Path photos, Path dir, long seed) throws IOException {
        Random random = new Random(seed);
        List<Path> files = new ArrayList<>();
        List<Path> sources;
        try (Stream<Path> s = Files.list(photos)) {
            sources = s.filter(Files::isRegularFile).sorted().toList();
        }
        files.addAll(sources);
        int n = 0;
        for (Path source : sources) {
            byte[] bytes = Files.readAllBytes(source);
            String name = source.getFileName().toString();
            for (int i = 0; i < 2; i++) {
                int cut = 1 + random.nextInt(Math.max(1, bytes.length - 1));
                files.add(write(dir, "cut" + (n++) + "-" + name, java.util.Arrays.copyOf(bytes, cut)));
            }
            byte[] flipped = bytes.clone();
            for (int i = 0; i < 1 + random.nextInt(20); i++) {
                int at = random.nextInt(flipped.length);
                flipped[at] ^= (byte) (1 << random.nextInt(8));
            }
            files.add(write(dir, "flip" + (n++) + "-" + name, flipped));
            // Header fields rewritten: the first 64 bytes, where sizes live.
            byte[] header = bytes.clone();
            for (int i = 0; i < 6; i++) {
                header[random.nextInt(Math.min(64, header.length))] = (byte) 0xFF;
            }
            files.add(write(dir, "header" + (n++) + "-" + name, header));
        }
        files.add(write(dir, "png-huge-ihdr.png", pngWithSize(encode(".png", solid(8, 8, CvType.CV_8UC3)), 100_000, 100_000)));
        files.add(write(dir, "png-1x30000.png", encode(".png", solid(1, 30_000, CvType.CV_8UC3))));
        files.add(write(dir, "png-30000x1.png", encode(".png", solid(30_000, 1, CvType.CV_8UC3))));
        files.add(write(dir, "png-2x20000.png", encode(".png", solid(2, 20_000, CvType.CV_8UC1))));
        files.add(write(dir, "png-1x1.png", encode(".png", solid(1, 1, CvType.CV_8UC3))));
        files.add(write(dir, "png-16bit.png", encode(".png", solid(64, 48, CvType.CV_16UC3))));
        files.add(write(dir, "tiff-float.tiff", encode(".tiff", solid(32, 32, CvType.CV_32FC3))));
        files.add(write(dir, "webp.webp", encode(".webp", solid(300, 200, CvType.CV_8UC3))));
        files.add(write(dir, "gif.gif", "GIF89a\u0001\u0000\u0001\u0000\u0000\u0000\u0000;".getBytes(
                java.nio.charset.StandardCharsets.ISO_8859_1)));
        files.add(write(dir, "empty.jpg", new byte[0]));
        byte[] jpegMagic = new byte[4096];
        random.nextBytes(jpegMagic);
        jpegMagic[0] = (byte) 0xFF;
        jpegMagic[1] = (byte) 0xD8;
        jpegMagic[2] = (byte) 0xFF;
        jpegMagic[jpegMagic.length - 2] = (byte) 0xFF;
        jpegMagic[jpegMagic.length - 1] = (byte) 0xD9;
        files.add(write(dir, "random-with-jpeg-markers.jpg", jpegMagic));
        Files.createDirectories(dir.resolve("a-directory.jpg"));
        files.add(dir.resolve("a-directory.jpg"));
        return files;
    }

    private static Mat solid(int width, int height, int type) {
        return new Mat(height, width, type, new Scalar(90, 120, 200));
    }

    private static byte[] encode(String ext, Mat image) {
        MatOfByte out = new MatOfByte();
        try {
            if (!Imgcodecs.imencode(ext, image, out)) {
                throw new IllegalStateException("OpenCV cannot encode " + ext);
            }
            return out.toArray();
        } finally {
            out.release();
            image.release();
        }
    }

    /** A PNG whose IHDR claims {@code width} x {@code height} (the CRC left as it was). */
    private static byte[] pngWithSize(byte[] png, int width, int height) {
        byte[] copy = png.clone();
        ByteBuffer b = ByteBuffer.wrap(copy).order(ByteOrder.BIG_ENDIAN);
        b.putInt(16, width);
        b.putInt(20, height);
        return copy;
    }

    private static Path write(Path dir, String name, byte[] bytes) throws IOException {
        Files.createDirectories(dir);
        return Files.write(dir.resolve(name), bytes);
    }
}
