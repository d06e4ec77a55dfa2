package io.inferencefleet.ops.cli;

import io.inferencefleet.worker.WorkerMain;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/** {@code fleet worker}: runs one worker until SIGTERM; every worker key is a {@code --key=value} flag. */
@Command(name = "worker",
        description = {"Run a worker: Kafka requests in, predictions out, until SIGTERM (then drain and commit).",
            "Options: --config=FILE and --<key>=<value> for every key that `fleet worker --help` lists",
            "(environment: FLEET_<KEY>)."})
final class WorkerCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws InterruptedException {
        return WorkerMain.run(args);
    }
}
