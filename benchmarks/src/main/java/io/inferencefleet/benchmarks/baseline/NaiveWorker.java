package io.inferencefleet.benchmarks.baseline;

import io.inferencefleet.benchmarks.report.Flags;
import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.paddle.model.ModelFiles;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.Rect;
import org.opencv.core.Size;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;

/**
 * The baseline of the seed-style comparison: the Kafka inference worker a Java developer writes
 * first. One thread does everything in turn: poll, read the file, decode with OpenCV, preprocess
 * into a heap {@code float[]} (resize 256, crop 224, BGR to RGB, normalise, HWC to CHW in Java
 * loops), copy it into the predictor's input, run Paddle with its default threads (1) and no
 * pinning, send the result and wait for the acknowledgement, and commit after each poll.
 *
 * <p>It is correct (same results, offsets committed only after the results are acknowledged,
 * ERROR results for bad input), only not tuned; it is not a strawman. It reaches Paddle through the
 * {@code native} module's public API like everything else in the project.
 * <pre>
 * java @jvm.options -cp benchmarks/target/benchmarks.jar io.inferencefleet.benchmarks.baseline.NaiveWorker \
 *   --bootstrap.servers=HOST:PORT --input.topic=IN --results.topic=OUT --group.id=G --model.dir=DIR --file.root=DIR
 * </pre>
 */
public final class NaiveWorker {
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};
    private static final int SIDE = 224;
    private static final int RESIZE = 256;

    private final Predictor predictor;
    private final Path fileRoot;
    private final String inputTopic;
    private final MessageCodec codec = new MessageCodec();
    private final float[] chw = new float[3 * SIDE * SIDE];
    private final float[] hwc = new float[3 * SIDE * SIDE];
    private final FloatBuffer input = ByteBuffer.allocateDirect(4 * 3 * SIDE * SIDE).order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    private final float[] scores;
    private final InferenceResult.ModelRef model;

    private NaiveWorker(Predictor predictor, Path fileRoot, String inputTopic, String modelName) {
        this.predictor = predictor;
        this.fileRoot = fileRoot;
        this.inputTopic = inputTopic;
        this.scores = new float[(int) predictor.outputs().get(0).dim(predictor.outputs().get(0).rank() - 1)];
        this.model = new InferenceResult.ModelRef(modelName, "naive");
    }

    public static void main(String[] args) throws Exception {
        Flags flags = Flags.parse(args, List.of("bootstrap.servers", "input.topic", "results.topic", "group.id", "model.dir",
                "file.root"));
        nu.pattern.OpenCV.loadLocally();
        ModelFiles files = ModelFiles.inDirectory(flags.path("model.dir"));
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, flags.get("bootstrap.servers"));
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, flags.get("group.id"));
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, flags.get("bootstrap.servers"));
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        Thread main = Thread.currentThread();
        try (Predictor predictor = Predictor.create(PredictorConfig.builder(files.modelFile(), files.paramsFile()).build());
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            NaiveWorker worker = new NaiveWorker(predictor, flags.path("file.root").toRealPath(), flags.get("input.topic"),
                    files.modelFile().getParent().getFileName().toString());
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                consumer.wakeup();
                try {
                    main.join(30_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            consumer.subscribe(List.of(flags.get("input.topic")));
            System.out.println("event=naive_worker_started settings=" + flags);
            try {
                while (true) {
                    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                        InferenceResult result = worker.handle(record);
                        producer.send(new ProducerRecord<>(flags.get("results.topic"), record.key(), worker.codec.encode(result)))
                                .get();
                    }
                    consumer.commitSync();
                }
            } catch (WakeupException stopping) {
                System.out.println("event=naive_worker_stopped");
            }
        }
    }

    InferenceResult handle(ConsumerRecord<byte[], byte[]> record) {
        long start = System.nanoTime();
        MessageCodec.DecodedRequest decoded = codec.decodeRequest(record.value());
        InferenceResult.Source source = new InferenceResult.Source(inputTopic, record.partition(), record.offset());
        if (!decoded.ok()) {
            return error(decoded.id() == null ? "unknown" : decoded.id(), source, ErrorCode.BAD_REQUEST.code(), decoded.error());
        }
        InferenceRequest request = decoded.request();
        byte[] bytes;
        try {
            Path file = Path.of(URI.create(request.imageUri())).toRealPath();
            if (!file.startsWith(fileRoot)) {
                return error(request.id(), source, "forbidden_uri", "outside " + fileRoot);
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return error(request.id(), source, "not_found", request.imageUri());
        } catch (Exception e) {
            return error(request.id(), source, "fetch_failed", e.toString());
        }
        long fetched = System.nanoTime();
        if (!preprocess(bytes)) {
            return error(request.id(), source, "decode_failed", "OpenCV could not decode " + request.imageUri());
        }
        long preprocessed = System.nanoTime();
        input.clear();
        input.put(chw).flip();  // the copy into the predictor's input
        predictor.setInput(0, input, 1, 3, SIDE, SIDE);
        predictor.run();
        predictor.copyOutput(0, scores);
        long inferred = System.nanoTime();
        int k = request.topKIfSet().orElse(5);
        List<InferenceResult.Prediction> top = IntStream.range(0, scores.length).boxed()
                .sorted(Comparator.comparingDouble(i -> -scores[i])).limit(k)
                .map(i -> new InferenceResult.Prediction(i, scores[i], null)).toList();
        return new InferenceResult(request.id(), InferenceResult.Status.OK, model, top,
                new InferenceResult.Timings(null, ms(fetched - start), ms(preprocessed - fetched), ms(inferred - preprocessed),
                        ms(inferred - start)), "naive-baseline", source, null, request.attributes());
    }

    /** OpenCV decode, resize (shorter side 256), centre crop 224, RGB, then normalise and transpose in Java. */
    private boolean preprocess(byte[] bytes) {
        Mat decoded = Imgcodecs.imdecode(new MatOfByte(bytes), Imgcodecs.IMREAD_COLOR);
        Mat resized = new Mat();
        Mat rgb = new Mat();
        Mat floats = new Mat();
        try {
            if (decoded.empty()) {
                return false;
            }
            double scale = (double) RESIZE / Math.min(decoded.rows(), decoded.cols());
            Imgproc.resize(decoded, resized, new Size(Math.round(decoded.cols() * scale), Math.round(decoded.rows() * scale)));
            Mat crop = resized.submat(new Rect((resized.cols() - SIDE) / 2, (resized.rows() - SIDE) / 2, SIDE, SIDE));
            Imgproc.cvtColor(crop, rgb, Imgproc.COLOR_BGR2RGB);
            crop.release();
            rgb.convertTo(floats, CvType.CV_32FC3, 1.0 / 255);
            floats.get(0, 0, hwc);
        } finally {
            for (Mat m : new Mat[] {decoded, resized, rgb, floats}) {
                m.release();
            }
        }
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                for (int c = 0; c < 3; c++) {
                    chw[c * SIDE * SIDE + y * SIDE + x] = (hwc[(y * SIDE + x) * 3 + c] - MEAN[c]) / STD[c];
                }
            }
        }
        return true;
    }

    private InferenceResult error(String id, InferenceResult.Source source, String code, String message) {
        return new InferenceResult(id, InferenceResult.Status.ERROR, model, null, null, "naive-baseline", source,
                new InferenceResult.ErrorInfo(code, message), Map.of());
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
