package io.inferencefleet.worker.preprocess;

import io.inferencefleet.testing.SharedImages;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfInt;
import org.opencv.core.Rect;
import org.opencv.core.Scalar;
import org.opencv.imgcodecs.Imgcodecs;

class ImagePreprocessorTest {
    private static final int PLANE = 224 * 224;

    private final ImagePreprocessor pre = new ImagePreprocessor(PreprocessConfig.imageNet());
    private final ByteBuffer target = ByteBuffer.allocateDirect(PreprocessConfig.imageNet().tensorBytes() + 64)
            .order(ByteOrder.nativeOrder());

    @AfterEach
    void close() {
        pre.close();
    }

    @Test
    void everySharedImageGivesOkOrAClearCode() throws IOException {
        List<String> report = new ArrayList<>();
        try (Stream<Path> files = Files.list(sharedImages())) {
            for (Path file : files.sorted().toList()) {
                PreprocessStatus status = pre.preprocess(Files.readAllBytes(file), target.clear());
                report.add(file.getFileName() + "=" + status.code());
                if (file.getFileName().toString().equals("truncated.jpg")) {
                    assertEquals(PreprocessStatus.TRUNCATED, status, pre.lastDetail());
                    assertTrue(pre.lastDetail().contains("before its end marker"), pre.lastDetail());
                } else {
                    assertEquals(PreprocessStatus.OK, status, file + ": " + pre.lastDetail());
                    assertAllFinite(file.toString());
                }
            }
        }
        assertTrue(report.size() >= 20, report.toString());
    }

    @Test
    void writesNormalisedRgbPlanesInChwOrder() {
        // Left half pure red, right half pure blue (OpenCV colours are BGR).
        Mat image = new Mat(300, 400, CvType.CV_8UC3, new Scalar(255, 0, 0));
        image.submat(new Rect(0, 0, 200, 300)).setTo(new Scalar(0, 0, 255));
        assertEquals(PreprocessStatus.OK, pre.preprocess(png(image), target.clear()));
        FloatBuffer chw = target.asFloatBuffer();
        float redHigh = (float) ((1.0 - 0.485) / 0.229);
        float redLow = (float) ((0.0 - 0.485) / 0.229);
        float blueHigh = (float) ((1.0 - 0.406) / 0.225);
        int row = 112;
        assertEquals(redHigh, chw.get(row * 224 + 10), 1e-5, "R plane, left");
        assertEquals(redLow, chw.get(row * 224 + 210), 1e-5, "R plane, right");
        assertEquals(blueHigh, chw.get(2 * PLANE + row * 224 + 210), 1e-5, "B plane, right");
        assertEquals((float) ((0.0 - 0.456) / 0.224), chw.get(PLANE + row * 224 + 10), 1e-5, "G plane");
    }

    @Test
    void grayscaleAnd16BitImagesBecomeThreeEqualPlanes() {
        Mat gray16 = new Mat(240, 320, CvType.CV_16UC1, new Scalar(65535));
        assertEquals(PreprocessStatus.OK, pre.preprocess(png(gray16), target.clear()), pre.lastDetail());
        FloatBuffer chw = target.asFloatBuffer();
        assertEquals((float) ((1.0 - 0.485) / 0.229), chw.get(100), 1e-4, "16-bit white is 1.0 after scaling");
        assertEquals((float) ((1.0 - 0.406) / 0.225), chw.get(2 * PLANE + 100), 1e-4);

        Mat gray8 = new Mat(240, 320, CvType.CV_8UC1, new Scalar(51));
        assertEquals(PreprocessStatus.OK, pre.preprocess(png(gray8), target.clear()));
        assertEquals((float) ((0.2 - 0.456) / 0.224), target.asFloatBuffer().get(PLANE + 5), 1e-5);
    }

    @Test
    void imagesWithAlphaAreAccepted() {
        Mat bgra = new Mat(100, 100, CvType.CV_8UC4, new Scalar(0, 255, 0, 128));
        assertEquals(PreprocessStatus.OK, pre.preprocess(png(bgra), target.clear()), pre.lastDetail());
        assertEquals((float) ((1.0 - 0.456) / 0.224), target.asFloatBuffer().get(PLANE + 7), 1e-5);
    }

    @Test
    void writesExactlyOneTensorAtTheTargetPosition() {
        target.clear();
        for (int i = 0; i < target.capacity(); i++) {
            target.put(i, (byte) 0x7F);
        }
        target.position(32);
        Mat image = new Mat(256, 256, CvType.CV_8UC3, new Scalar(10, 20, 30));
        assertEquals(PreprocessStatus.OK, pre.preprocess(png(image), target));
        for (int i = 0; i < 32; i++) {
            assertEquals(0x7F, target.get(i), "byte " + i + " before the position is untouched");
        }
        int end = 32 + PreprocessConfig.imageNet().tensorBytes();
        for (int i = end; i < target.capacity(); i++) {
            assertEquals(0x7F, target.get(i), "byte " + i + " after the tensor is untouched");
        }
    }

    @Test
    void oversizedImagesAreRefusedFromTheHeaderWithoutDecoding() {
        byte[] huge = pngHeaderOnly(30_000, 30_000);
        long start = System.nanoTime();
        assertEquals(PreprocessStatus.TOO_LARGE, pre.preprocess(huge, target.clear()));
        assertTrue((System.nanoTime() - start) < 2_000_000_000L, "refused without decoding 900 MP");
        assertTrue(pre.lastDetail().contains("30000x30000"), pre.lastDetail());
        assertEquals(30_000, pre.lastWidth());
    }

    @Test
    void sliversBeyondTheAspectRatioLimitAreRefusedFromTheHeader() {
        assertEquals(PreprocessStatus.TOO_LARGE, pre.preprocess(pngHeaderOnly(1, 30_000), target.clear()));
        assertEquals("PNG of 1x30000 has an aspect ratio of 30000 (long side / short side), above the limit of 100"
                + " (maxAspectRatio)", pre.lastDetail());
        assertEquals(PreprocessStatus.TOO_LARGE, pre.preprocess(pngHeaderOnly(30_000, 7), target.clear()));
        assertTrue(pre.lastDetail().contains("30000x7 has an aspect ratio of 4285.71"), pre.lastDetail());

        Mat atTheLimit = new Mat(300, 3, CvType.CV_8UC3, new Scalar(1, 2, 3));
        assertEquals(PreprocessStatus.OK, pre.preprocess(png(atTheLimit), target.clear()), pre.lastDetail());
        try (ImagePreprocessor strict = new ImagePreprocessor(PreprocessConfig.imageNet().withMaxAspectRatio(1.5))) {
            assertEquals(PreprocessStatus.TOO_LARGE, strict.preprocess(png(atTheLimit), target.clear()));
            assertTrue(strict.lastDetail().endsWith("above the limit of 1.50 (maxAspectRatio)"), strict.lastDetail());
            Mat photo = new Mat(300, 400, CvType.CV_8UC3, new Scalar(1, 2, 3));
            assertEquals(PreprocessStatus.OK, strict.preprocess(png(photo), target.clear()), strict.lastDetail());
        }
    }

    @Test
    void progressiveJpegScanBombsAreRefusedFromTheirMarkers() {
        byte[] normal = progressiveJpeg(64, 48);
        assertEquals(10, ImageProbe.countJpegScans(normal), "the standard progressive script for colour");
        assertEquals(PreprocessStatus.OK, pre.preprocess(normal, target.clear()), pre.lastDetail());

        byte[] bomb = withRepeatedLastScan(normal, 150);
        assertEquals(160, ImageProbe.countJpegScans(bomb));
        assertEquals(PreprocessStatus.UNDECODABLE, pre.preprocess(bomb, target.clear()));
        assertEquals("JPEG of 64x48 has 160 scans, above the limit of 100 (maxJpegScans; every scan costs the decoder"
                + " a pass over the whole image)", pre.lastDetail());
        // What the limit stands in for: libjpeg only warns about the repeated scans and decodes every one of them.
        try (ImagePreprocessor lenient = new ImagePreprocessor(PreprocessConfig.imageNet().withMaxJpegScans(200))) {
            assertEquals(PreprocessStatus.OK, lenient.preprocess(bomb, target.clear()), lenient.lastDetail());
        }
    }

    @Test
    void jpegScansAreCountedPastStuffedBytesAndRestartMarkers() throws IOException {
        // Noise makes the entropy-coded data full of stuffed FF 00; a restart interval of 1 puts RSTn after every MCU.
        Mat noise = CropResamplerTest.noise(120, 80, CvType.CV_8UC3, new SplittableRandom(3));
        for (int progressive : new int[] {0, 1}) {
            MatOfByte out = new MatOfByte();
            assertTrue(Imgcodecs.imencode(".jpg", noise, out, new MatOfInt(Imgcodecs.IMWRITE_JPEG_PROGRESSIVE,
                    progressive, Imgcodecs.IMWRITE_JPEG_RST_INTERVAL, 1, Imgcodecs.IMWRITE_JPEG_QUALITY, 100)));
            byte[] jpeg = out.toArray();
            assertEquals(progressive == 1 ? 10 : 1, ImageProbe.countJpegScans(jpeg), "progressive=" + progressive);
            assertEquals(PreprocessStatus.OK, pre.preprocess(jpeg, target.clear()), pre.lastDetail());
        }
        for (String name : new String[] {"baboon.jpg", "messi5.jpg", "HappyFish.jpg"}) {
            assertEquals(1, ImageProbe.countJpegScans(Files.readAllBytes(sharedImages().resolve(name))), name);
        }
    }

    @Test
    void webpIsDecodedAndMeasuredFromItsOwnHeader() {
        Mat photo = CropResamplerTest.noise(300, 200, CvType.CV_8UC3, new SplittableRandom(4));
        byte[] lossless = webp(photo, 101);  // quality above 100: lossless (VP8L), the same pixels back
        assertEquals("VP8L", new String(lossless, 12, 4, StandardCharsets.US_ASCII));
        assertEquals(PreprocessStatus.OK, pre.preprocess(lossless, target.clear()), pre.lastDetail());
        assertEquals(300, pre.lastWidth());
        assertEquals(200, pre.lastHeight());
        float[] expected = ReferencePreprocessing.preprocess(png(photo), PreprocessConfig.imageNet());
        float[] actual = new float[expected.length];
        target.clear();
        target.asFloatBuffer().get(actual);
        assertEquals(0.0, ImagePreprocessorParityTest.maxDifference(expected, actual));

        byte[] lossy = webp(photo, 80);
        assertEquals("VP8 ", new String(lossy, 12, 4, StandardCharsets.US_ASCII));
        assertEquals(PreprocessStatus.OK, pre.preprocess(lossy, target.clear()), pre.lastDetail());
        assertEquals(300, pre.lastWidth());
        Mat withAlpha = new Mat(123, 321, CvType.CV_8UC4, new Scalar(10, 20, 30, 128));
        byte[] extended = webp(withAlpha, 80);
        assertEquals("VP8X", new String(extended, 12, 4, StandardCharsets.US_ASCII));
        assertEquals(PreprocessStatus.OK, pre.preprocess(extended, target.clear()), pre.lastDetail());
        assertEquals(321, pre.lastWidth());
        assertEquals(123, pre.lastHeight());

        assertEquals(PreprocessStatus.TRUNCATED,
                pre.preprocess(Arrays.copyOf(lossy, lossy.length - 10), target.clear()));
        assertTrue(pre.lastDetail().contains("RIFF"), pre.lastDetail());
    }

    @Test
    void animatedWebpGifAndFloatTiffAreRefusedByName() throws IOException {
        assertEquals(PreprocessStatus.UNSUPPORTED_FORMAT, pre.preprocess(animatedWebpHeader(), target.clear()));
        assertTrue(pre.lastDetail().startsWith("animated WebP is not supported"), pre.lastDetail());

        BufferedImage image = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream gif = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, "gif", gif));
        assertEquals(PreprocessStatus.UNSUPPORTED_FORMAT, pre.preprocess(gif.toByteArray(), target.clear()));
        assertTrue(pre.lastDetail().startsWith("GIF images are not supported"), pre.lastDetail());

        // OpenCV writes float colour as LogLuv and float grey as IEEE float; other tools write IEEE float colour.
        String[][] cases = {
            {"LogLuv-encoded (OpenCV decodes them to 32-bit float)", encodeTiff(CvType.CV_32FC3)},
            {"32-bit float", encodeTiff(CvType.CV_32FC1)},
            {"32-bit float", latin1(rawTiff(40, 30, 3, 32, 3))},
            {"64-bit float", latin1(rawTiff(40, 30, 1, 64, 3))},
            {"32-bit integer", latin1(rawTiff(40, 30, 3, 32, 1))},
        };
        for (String[] c : cases) {
            assertEquals(PreprocessStatus.UNSUPPORTED_FORMAT, pre.preprocess(bytes(c[1]), target.clear()), c[0]);
            assertEquals("TIFF samples are " + c[0] + "; only 8- and 16-bit integer images are supported",
                    pre.lastDetail());
            assertEquals(40, pre.lastWidth());
        }
    }

    @Test
    void aTiffThatDecodesToAnotherDepthIsRefusedNamingTheDepth() {
        // Signed 16-bit samples (elevation models, medical scans) pass the header check; OpenCV decodes them as such.
        byte[] tiff = rawTiff(40, 30, 3, 16, 2);
        assertEquals(PreprocessStatus.UNSUPPORTED_FORMAT, pre.preprocess(tiff, target.clear()));
        assertEquals("TIFF decodes to 16-bit signed pixels (CV_16SC3); only 8- and 16-bit integer images are supported",
                pre.lastDetail());
        byte[] unsigned = rawTiff(40, 30, 3, 16, 1);
        assertEquals(PreprocessStatus.OK, pre.preprocess(unsigned, target.clear()), pre.lastDetail());
    }

    @Test
    void limitsAreValidatedWithTheirNames() {
        PreprocessConfig config = PreprocessConfig.imageNet();
        assertEquals(PreprocessConfig.DEFAULT_MAX_ASPECT_RATIO, config.maxAspectRatio());
        assertEquals(250.0, config.withMaxAspectRatio(250).maxAspectRatio());
        assertEquals(1_000L, config.withMaxPixels(1_000).maxPixels());
        assertEquals("Invalid value 0.5 for maxAspectRatio: must be a finite number of at least 1 (long side / short"
                + " side)", assertThrows(IllegalArgumentException.class,
                        () -> config.withMaxAspectRatio(0.5)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> config.withMaxAspectRatio(Double.NaN))
                .getMessage().startsWith("Invalid value NaN for maxAspectRatio: "));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> config.withMaxAspectRatio(Double.POSITIVE_INFINITY)).getMessage().contains("maxAspectRatio"));
        assertEquals("Invalid value 0 for maxPixels: must be positive",
                assertThrows(IllegalArgumentException.class, () -> config.withMaxPixels(0)).getMessage());
        assertEquals(PreprocessConfig.DEFAULT_MAX_JPEG_SCANS, config.maxJpegScans());
        assertEquals(7, config.withMaxJpegScans(7).maxJpegScans());
        assertEquals("Invalid value 0 for maxJpegScans: must be at least 1 (a JPEG has at least one scan)",
                assertThrows(IllegalArgumentException.class, () -> config.withMaxJpegScans(0)).getMessage());
    }

    @Test
    void badBytesGetStableCodes() {
        byte[] random = new byte[2048];
        new SplittableRandom(5).nextBytes(random);
        random[0] = 0x11;
        assertEquals(PreprocessStatus.EMPTY, pre.preprocess(new byte[0], target.clear()));
        assertEquals(PreprocessStatus.UNSUPPORTED_FORMAT, pre.preprocess(random, target.clear()));
        assertEquals(PreprocessStatus.UNSUPPORTED_FORMAT,
                pre.preprocess("GIF89a not really".getBytes(StandardCharsets.US_ASCII), target.clear()));
        byte[] fakeJpeg = random.clone();
        fakeJpeg[0] = (byte) 0xFF;
        fakeJpeg[1] = (byte) 0xD8;
        fakeJpeg[2] = (byte) 0xFF;
        fakeJpeg[fakeJpeg.length - 2] = (byte) 0xFF;
        fakeJpeg[fakeJpeg.length - 1] = (byte) 0xD9;
        assertEquals(PreprocessStatus.UNDECODABLE, pre.preprocess(fakeJpeg, target.clear()), pre.lastDetail());
        assertTrue(pre.lastDetail() != null && !pre.lastDetail().isBlank());
    }

    @Test
    void configurationErrorsNameTheKeyAndValue() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> PreprocessConfig.imageNet().withResize(200, 224));
        assertEquals("Invalid value 224 for cropSize: must be positive and at most resizeShortSide (200)", e.getMessage());
    }

    private void assertAllFinite(String what) {
        FloatBuffer chw = target.asFloatBuffer();
        for (int i = 0; i < 3 * PLANE; i++) {
            float v = chw.get(i);
            if (!Float.isFinite(v) || Math.abs(v) > 3.0f) {
                throw new AssertionError(what + ": value " + v + " at " + i + " is outside normalised range");
            }
        }
    }

    private static String encodeTiff(int type) {
        Mat floats = new Mat(30, 40, type, new Scalar(0.25, 0.5, 0.75));
        MatOfByte tiff = new MatOfByte();
        assertTrue(Imgcodecs.imencode(".tiff", floats, tiff));
        return latin1(tiff.toArray());
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * An uncompressed little-endian TIFF, {@code bits} per sample of {@code sampleFormat} (1 unsigned, 2 signed,
     * 3 IEEE float), all samples zero: the layouts HDR, scientific and medical tools write.
     */
    static byte[] rawTiff(int width, int height, int channels, int bits, int sampleFormat) {
        int pixelBytes = width * height * channels * bits / 8;
        int entries = 11;
        int ifd = 8;
        int bitsAt = ifd + 2 + entries * 12 + 4;  // per-channel arrays go after the IFD
        int formatAt = bitsAt + 2 * channels;
        int pixelsAt = formatAt + 2 * channels;
        ByteBuffer b = ByteBuffer.allocate(pixelsAt + pixelBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(ifd);
        b.putShort((short) entries);
        tiffShorts(b, 256, width);
        tiffShorts(b, 257, height);
        tiffArray(b, 258, channels, bits, bitsAt);
        tiffShorts(b, 259, 1);                        // no compression
        tiffShorts(b, 262, channels >= 3 ? 2 : 1);    // RGB or BlackIsZero
        tiffLong(b, 273, pixelsAt);                   // one strip
        tiffShorts(b, 277, channels);
        tiffShorts(b, 278, height);
        tiffLong(b, 279, pixelBytes);
        tiffShorts(b, 284, 1);                        // chunky
        tiffArray(b, 339, channels, sampleFormat, formatAt);
        b.putInt(0);                                  // no next IFD
        for (int c = 0; c < channels; c++) {
            b.putShort(bitsAt + 2 * c, (short) bits);
            b.putShort(formatAt + 2 * c, (short) sampleFormat);
        }
        return b.array();
    }

    private static void tiffShorts(ByteBuffer b, int tag, int value) {
        b.putShort((short) tag).putShort((short) 3).putInt(1).putShort((short) value).putShort((short) 0);
    }

    private static void tiffLong(ByteBuffer b, int tag, int value) {
        b.putShort((short) tag).putShort((short) 4).putInt(1).putInt(value);
    }

    /** SHORT values, one per channel: in the entry when they fit in 4 bytes, else at {@code offset}. */
    private static void tiffArray(ByteBuffer b, int tag, int channels, int value, int offset) {
        b.putShort((short) tag).putShort((short) 3).putInt(channels);
        if (channels <= 2) {
            b.putShort((short) value).putShort((short) (channels == 2 ? value : 0));
        } else {
            b.putInt(offset);
        }
    }

    static byte[] webp(Mat image, int quality) {
        MatOfByte out = new MatOfByte();
        assertTrue(Imgcodecs.imencode(".webp", image, out, new MatOfInt(Imgcodecs.IMWRITE_WEBP_QUALITY, quality)));
        return out.toArray();
    }

    /** RIFF/WEBP with an extended (VP8X) header whose animation flag is set, 64x48; no frames follow. */
    static byte[] animatedWebpHeader() {
        byte[] b = new byte[30];
        System.arraycopy("RIFF".getBytes(StandardCharsets.US_ASCII), 0, b, 0, 4);
        b[4] = (byte) (b.length - 8);
        System.arraycopy("WEBPVP8X".getBytes(StandardCharsets.US_ASCII), 0, b, 8, 8);
        b[16] = 10;       // chunk size
        b[20] = 0x02;     // flags: animation
        b[24] = 63;       // canvas width - 1
        b[27] = 47;       // canvas height - 1
        return b;
    }

    static byte[] png(Mat image) {
        MatOfByte out = new MatOfByte();
        assertTrue(Imgcodecs.imencode(".png", image, out));
        return out.toArray();
    }

    /** A syntactically complete PNG (signature, IHDR, IEND) claiming the given size, with no pixels. */
    static byte[] pngHeaderOnly(int width, int height) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
            ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
            DataOutputStream h = new DataOutputStream(ihdr);
            h.writeInt(width);
            h.writeInt(height);
            h.write(new byte[] {8, 2, 0, 0, 0});
            chunk(out, "IHDR", ihdr.toByteArray());
            chunk(out, "IEND", new byte[0]);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        out.writeInt(data.length);
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        out.write(typeBytes);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }

    /** A progressive JPEG of a gradient from the JDK's encoder, which writes the standard 10-scan colour script. */
    static byte[] progressiveJpeg(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, (x * 4 & 0xFF) << 16 | (y * 5 & 0xFF) << 8 | ((x + y) & 0xFF));
            }
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, null), param);
        } catch (IOException e) {
            throw new AssertionError(e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    /**
     * The JPEG with its last scan (SOS segment and entropy-coded data) repeated {@code extra} more times before EOI:
     * a scan bomb. FF DA cannot occur inside entropy-coded data (a data FF is always followed by 00), so the last
     * FF DA starts the last scan.
     */
    static byte[] withRepeatedLastScan(byte[] jpeg, int extra) {
        int end = jpeg.length - 2;  // EOI
        int start = end - 2;
        while (!((jpeg[start] & 0xFF) == 0xFF && (jpeg[start + 1] & 0xFF) == 0xDA)) {
            start--;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, end);
        for (int i = 0; i < extra; i++) {
            out.write(jpeg, start, end - start);
        }
        out.write(jpeg, end, 2);
        return out.toByteArray();
    }

    static Path sharedImages() {
        return SharedImages.dir();
    }
}
