package io.inferencefleet.ops;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The design's layering, checked on the compiled classes of every module (ops sees them all but
 * benchmarks): the producer side never reaches into the worker, and the worker reaches Paddle only
 * through {@code native}'s public API and tensors only through {@code shm-transport}'s; a Kafka
 * broker is started only by {@code local-kafka}, and main code never uses a test kit.
 */
class ModuleLayeringTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        // ArchUnit's own option knows test-classes directories but not Maven test-jars: producer's
        // (testing.KafkaBroker, client tests) is on this classpath as a -tests.jar whenever it was
        // packaged, i.e. in `mvn verify` and when ops is built alone.
        ImportOption noTestJars = location -> !location.contains("-tests.jar");
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(noTestJars)
                .importPackages("io.inferencefleet");
    }

    @Test
    void theProducerSideNeverImportsTheWorker() {
        noClasses().that().resideInAnyPackage("io.inferencefleet.messages..", "io.inferencefleet.client..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.worker..", "io.inferencefleet.ops..")
                .check(classes);
    }

    @Test
    void nothingOutsideShmTransportUsesItsInternals() {
        noClasses().that().resideOutsideOfPackage("io.inferencefleet.shm..")
                .should().dependOnClassesThat().resideInAPackage("io.inferencefleet.shm.internal..")
                .check(classes);
    }

    @Test
    void theWorkerUsesNoPaddleFileFormatInternalsOrJniClasses() {
        noClasses().that().resideInAPackage("io.inferencefleet.worker..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.paddle.model.proto..",
                        "io.inferencefleet.paddle.reference..")
                .orShould().dependOnClassesThat().haveSimpleName("PaddleNative")
                .check(classes);
    }

    @Test
    void mainCodeUsesNoTestKit() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage(
                        "org.apache.kafka.common.test..", "org.apache.kafka.test..", "org.junit..")
                .because("main code is what the packaged CLI ships; test kits and JUnit belong on test classpaths")
                .check(classes);
    }

    @Test
    void onlyLocalKafkaRunsKafkasServer() {
        noClasses().that().resideOutsideOfPackage("io.inferencefleet.kafka.local..")
                .should().dependOnClassesThat().resideInAnyPackage("kafka..", "org.apache.kafka.server..",
                        "org.apache.kafka.controller..", "org.apache.kafka.raft..", "org.apache.kafka.metadata..")
                .because("there is one way to start a broker: SingleNodeKafka")
                .check(classes);
    }

    @Test
    void localKafkaDependsOnNothingOfTheProject() {
        noClasses().that().resideInAPackage("io.inferencefleet.kafka.local..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.paddle..", "io.inferencefleet.shm..",
                        "io.inferencefleet.messages..", "io.inferencefleet.client..", "io.inferencefleet.worker..",
                        "io.inferencefleet.ops..", "io.inferencefleet.benchmarks..", "io.inferencefleet.testing..")
                .because("it sits below producer and worker, whose tests use it")
                .check(classes);
    }

    @Test
    void lowerModulesDoNotDependOnHigherOnes() {
        noClasses().that().resideInAnyPackage("io.inferencefleet.paddle..", "io.inferencefleet.shm..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.worker..", "io.inferencefleet.ops..",
                        "io.inferencefleet.client..", "io.inferencefleet.messages..")
                .check(classes);
    }

    @Test
    void stagesAnswerThroughTheJobPortNeverThroughAnotherStagesPackage() {
        // Intake and lanes answer through worker.job.Answers; only the launcher (worker.Worker) knows the publisher.
        noClasses().that().resideInAnyPackage("io.inferencefleet.worker.intake..", "io.inferencefleet.worker.lane..",
                        "io.inferencefleet.worker.fetch..", "io.inferencefleet.worker.preprocess..")
                .should().dependOnClassesThat().resideInAPackage("io.inferencefleet.worker.publish..")
                .check(classes);
        noClasses().that().resideInAPackage("io.inferencefleet.worker.publish..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.worker.intake..",
                        "io.inferencefleet.worker.lane..")
                .check(classes);
        noClasses().that().resideInAPackage("io.inferencefleet.worker.job..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.worker.intake..",
                        "io.inferencefleet.worker.lane..", "io.inferencefleet.worker.publish..")
                .check(classes);
    }
}
