package io.inferencefleet.client;

import io.inferencefleet.testing.KafkaBroker;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Stands in for the worker in client tests: answers every request on {@code requests} with an OK
 * result on {@code results} (keyed like the request) whose attributes echo the request's image URI,
 * except requests whose id starts with {@code silent-}, which it reads and never answers.
 */
final class EchoWorker implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final String results;
    private final MessageCodec codec = new MessageCodec();
    private final Thread thread;
    private final AtomicInteger requestsSeen = new AtomicInteger();
    private volatile boolean running = true;

    EchoWorker(KafkaBroker broker, String requests, String results) {
        this.consumer = broker.consumerFromBeginning(requests);
        this.producer = broker.producer();
        this.results = results;
        this.thread = new Thread(this::run, "echo-worker");
        thread.start();
    }

    int requestsSeen() {
        return requestsSeen.get();
    }

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                    requestsSeen.incrementAndGet();
                    MessageCodec.DecodedRequest decoded = codec.decodeRequest(record.value());
                    if (!decoded.ok() || decoded.request().id().startsWith("silent-")) {
                        continue;
                    }
                    String id = decoded.request().id();
                    InferenceResult result = new InferenceResult(id, InferenceResult.Status.OK,
                            new InferenceResult.ModelRef("echo", "1"),
                            List.of(new InferenceResult.Prediction(Math.floorMod(id.hashCode(), 1000), 0.5f, null)),
                            null, "echo-worker", null, null, Map.of("imageUri", decoded.request().imageUri()));
                    producer.send(new ProducerRecord<>(results, record.key(), codec.encode(result)));
                }
            }
        } finally {
            consumer.close();
            producer.close();
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
