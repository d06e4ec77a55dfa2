package io.inferencefleet.benchmarks.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The report's PNG pictures, drawn headless with JFreeChart. */
final class Plots {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;
    private static final Color[] PALETTE = {new Color(0xc0392b), new Color(0x3b6ea5), new Color(0x27ae60),
        new Color(0x8e44ad), new Color(0xd68910)};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {}

    /** A point of a line: x, y. */
    record Point(double x, double y) {}

    /** A labelled point of the Pareto plot; points of one {@code group} (e.g. an engine) share a colour. */
    record Labelled(String label, String group, double x, double y, boolean frontier) {}

    /** Latency percentiles against offered rate, one line per series, log-scale latency axis. */
    static void latencyCurves(Path file, String title, Map<String, List<Point>> series) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        series.forEach((name, points) -> {
            XYSeries s = new XYSeries(name, false);
            points.forEach(p -> s.add(p.x(), p.y()));
            data.addSeries(s);
        });
        JFreeChart chart = ChartFactory.createXYLineChart(title, "offered load (requests/s)", "latency (ms, log scale)", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setRangeAxis(logAxis("latency (ms, log scale)"));
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        List<String> systems = new java.util.ArrayList<>();
        for (int i = 0; i < data.getSeriesCount(); i++) {
            String system = data.getSeriesKey(i).toString().replaceAll(" p\\d+$", "");
            if (!systems.contains(system)) {
                systems.add(system);
            }
            renderer.setSeriesPaint(i, PALETTE[systems.indexOf(system) % PALETTE.length]);
            renderer.setSeriesStroke(i, data.getSeriesKey(i).toString().endsWith("p50")
                    ? new BasicStroke(1.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(2.2f));
        }
        plot.setRenderer(renderer);
        style(chart);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
    }

    /** Images/s per configuration, one bar each. */
    static void bars(Path file, String title, String axis, Map<String, Double> values) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        values.forEach((name, value) -> data.addValue(value, axis, name));
        JFreeChart chart = ChartFactory.createBarChart(title, null, axis, data, PlotOrientation.VERTICAL, false, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setSeriesPaint(0, new Color(0x3b6ea5));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultItemLabelGenerator(new org.jfree.chart.labels.StandardCategoryItemLabelGenerator("{2}",
                new java.text.DecimalFormat("0.00")));
        style(chart);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
    }

    /** Throughput (x) against p99 (y) of every configuration, one colour per group; the frontier joined by a line. */
    static void pareto(Path file, String title, String xAxis, String yAxis, List<Labelled> points) throws IOException {
        XYSeries frontier = new XYSeries("Pareto frontier", true);
        points.stream().filter(Labelled::frontier).forEach(p -> frontier.add(p.x(), p.y()));
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(frontier);
        Map<String, XYSeries> groups = new java.util.LinkedHashMap<>();
        points.forEach(p -> groups.computeIfAbsent(p.group(), g -> new XYSeries(g, false)).add(p.x(), p.y()));
        groups.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart(title, xAxis, yAxis, data, PlotOrientation.VERTICAL, true, false,
                false);
        XYPlot plot = chart.getXYPlot();
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        ((org.jfree.chart.axis.NumberAxis) plot.getDomainAxis()).setAutoRangeIncludesZero(false);
        plot.getDomainAxis().setUpperMargin(0.15);  // room for the labels of the fastest settings
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        renderer.setSeriesLinesVisible(0, true);
        renderer.setSeriesShapesVisible(0, false);
        renderer.setSeriesPaint(0, new Color(0x7f8c8d));
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        for (int i = 1; i < data.getSeriesCount(); i++) {
            renderer.setSeriesLinesVisible(i, false);
            renderer.setSeriesShapesVisible(i, true);
            renderer.setSeriesPaint(i, PALETTE[(i - 1) % PALETTE.length]);
        }
        plot.setRenderer(renderer);
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
        for (Labelled p : points) {
            XYTextAnnotation label = new XYTextAnnotation(" " + p.label(), p.x(), p.y());
            label.setFont(font);
            label.setTextAnchor(TextAnchor.BOTTOM_LEFT);
            plot.addAnnotation(label);
        }
        style(chart);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
    }

    /** A log axis labelled with plain numbers (10, 20, ..., 100, 200, ...). */
    private static LogarithmicAxis logAxis(String label) {
        LogarithmicAxis axis = new LogarithmicAxis(label);
        axis.setStrictValuesFlag(false);
        axis.setExpTickLabelsFlag(false);
        axis.setLog10TickLabelsFlag(false);
        return axis;
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getPlot().setBackgroundPaint(new Color(0xf7f7f7));
    }
}
