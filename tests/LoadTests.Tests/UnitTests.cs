using System.Buffers.Binary;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Monitoring;
using PgVideoChat.LoadTests.Reports;
using PgVideoChat.LoadTests.Scenario;
using PgVideoChat.LoadTests.Stats;

namespace PgVideoChat.LoadTests.Tests;

/// <summary>The runner's parts that need no app model.</summary>
public sealed class UnitTests
{
    [Fact]
    public void The_mount_of_a_path_is_the_longest_mount_point_that_contains_it()
    {
        // /proc is a mount of its own on every Linux, under the root file system.
        var proc = HostFacts.MountOf("/proc/self/status");
        Assert.Equal("/proc", proc?.MountPoint);
        Assert.Contains("rw", proc!.Value.Options.Split(','));
        Assert.Equal("/", HostFacts.MountOf("/")?.MountPoint);

        // The runner's own facts: its process has a working directory and the kernel names itself.
        var facts = HostFacts.Read(Environment.ProcessId);
        Assert.Equal(Environment.CurrentDirectory, facts.DataDirectory);
        Assert.NotNull(facts.DataMountPoint);
        Assert.False(string.IsNullOrEmpty(facts.Kernel));
        Assert.Equal(facts.DirtyBackgroundBytes is 0 or > 16L * 1024 * 1024, facts.Warnings.Any(w => w.StartsWith("vm.dirty_background", StringComparison.Ordinal)));
    }

    [Fact]
    public void Generated_video_frames_are_baseline_jpegs_of_webcam_size()
    {
        var media = MediaLibrary.Create(videoFrameCount: 3, targetVideoBytes: 25_000);

        Assert.Equal(3, media.VideoFrames.Count);
        Assert.Equal(3, media.VideoFrames.Select(f => f.Length).Distinct().Count());
        foreach (var jpeg in media.VideoFrames)
        {
            Assert.InRange(jpeg.Length, 18_000, 32_000);
            Assert.Equal([0xFF, 0xD8], jpeg[..2]);
            Assert.Equal([0xFF, 0xD9], jpeg[^2..]);
            var (width, height, components) = ReadFrameHeader(jpeg);
            Assert.Equal((640, 360, 3), (width, height, components));
        }

        Assert.Equal(25, media.AudioFrames.Count);
        Assert.All(media.AudioFrames, f => Assert.Equal(1920, f.Length));
    }

    /// <summary>Walks the JPEG's marker segments to the baseline SOF0 and reads its size.</summary>
    private static (int Width, int Height, int Components) ReadFrameHeader(byte[] jpeg)
    {
        var offset = 2;
        while (offset + 4 < jpeg.Length)
        {
            Assert.Equal(0xFF, jpeg[offset]);
            var marker = jpeg[offset + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(offset + 2));
            if (marker == 0xC0)
            {
                return (BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(offset + 7)), BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(offset + 5)), jpeg[offset + 9]);
            }

            Assert.NotEqual(0xDA, marker);
            offset += 2 + length;
        }

        throw new InvalidOperationException("no SOF0 segment");
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("500ms", 0.5)]
    [InlineData("2m", 120)]
    [InlineData("1.5s", 1.5)]
    [InlineData("00:01:05", 65)]
    [InlineData("45", 45)]
    public void Durations_parse_as_typed(string text, double seconds) => Assert.Equal(TimeSpan.FromSeconds(seconds), Durations.Parse(text));

    [Theory]
    [InlineData(new[] { 50 }, 50)]
    [InlineData(new[] { 55, 45, 50 }, 50)]
    [InlineData(new[] { 50, 45 }, 45)]
    [InlineData(new[] { 45, 55, 55, 50 }, 50)]
    public void Repeated_capacity_searches_count_their_lower_median(int[] capacities, int median)
        => Assert.Equal(median, CapacityRunner.LowerMedian(capacities));

    [Fact]
    public void The_cost_of_a_call_is_each_mean_per_call_second()
    {
        // 40 % of a core at 10 calls is 400 ms of CPU a second, 40 ms per call; bytes per second divide the same way.
        var cost = CallCost.From(10, relayCpuPercent: 40, postgresCpuPercent: 30, walsenderCpuPercent: 5, runnerCpuPercent: 20, walBytesPerSecond: 1_000_000, diskBytesPerSecond: null);
        Assert.Equal(new CallCost(10, 40, 30, 5, 20, 100_000, null), cost);
        Assert.Null(CallCost.From(0, 40, 30, 5, 20, 1, 1));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("3", 3)]
    [InlineData("all", int.MaxValue)]
    [InlineData("ALL", int.MaxValue)]
    public void Record_takes_a_number_of_calls_or_all(string text, int calls) => Assert.Equal(calls, Cli.ParseRecord(text));

    [Fact]
    public void Record_refuses_anything_else()
    {
        Assert.Throws<FormatException>(() => Cli.ParseRecord("-1"));
        Assert.Throws<FormatException>(() => Cli.ParseRecord("some"));
    }

    [Fact]
    public void The_cost_of_recording_is_the_partitions_growth_and_the_copy_time_per_recorded_call()
    {
        // Two recorded calls; the partitions grow 1.6 MB over 2 s (0.8 MB/s: 24 MB per recorded call-minute) and the
        // copy took 10 ms in one second of the three for 400 frames.
        Sample S(double t, long bytes, double copyMs, double frames) => new() { T = t, RecordedBytes = bytes, RecordingCopyMsPerSecond = copyMs, RecordingFramesCopiedPerSecond = frames };
        var figures = RecordingFigures.From(2, [S(1, 1_000_000, 0, 0), S(2, 1_000_000, 0, 0), S(3, 2_600_000, 30, 1200)]);
        Assert.Equal(new RecordingFigures(2, 2_600_000, 800_000, 24_000_000, 10, 5, 25, 400), figures);
    }

    [Fact]
    public void Capacity_levels_are_start_to_max_by_step_or_exactly_the_given_ones()
    {
        Assert.Equal([30, 40, 50, 60, 70, 80], new CapacityOptions { Start = 30, Step = 10, Max = 80 }.LevelCalls());
        Assert.Equal([30, 40], new CapacityOptions { Start = 30, Step = 10, Max = 49 }.LevelCalls());
        var given = new CapacityOptions { Start = 30, Step = 10, Max = 80, Levels = [1, 10, 30, 50] };
        Assert.Equal([1, 10, 30, 50], given.LevelCalls());
        Assert.Equal(1, given.FirstLevel);
    }

    [Fact]
    public void The_disks_written_bytes_only_grow()
    {
        var before = ProcStats.DiskBytesWritten();
        Assert.NotNull(before); // these machines have a disk in /sys/block; a run without one reports no disk writes
        var probe = Path.Combine(Path.GetTempPath(), $"pgvc-disk-probe-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllBytes(probe, new byte[1 << 20]);
            Assert.True(ProcStats.DiskBytesWritten() >= before);
        }
        finally
        {
            File.Delete(probe);
        }
    }

    [Fact]
    public void A_process_children_are_found_by_the_kernel_list_and_by_the_scan_alike()
    {
        using var child = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            var self = Environment.ProcessId;
            Assert.Contains(child.Id, ProcStats.ScannedChildren(self));
            Assert.Contains(child.Id, ProcStats.Children(self));
            if (ProcStats.ListedChildren(self) is { } listed)
            {
                Assert.Contains(child.Id, listed);
                Assert.DoesNotContain(self, listed);
            }
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    [Fact]
    public void Load_simulations_parse_and_print_like_nbomber()
    {
        var ramp = LoadSimulation.Parse("ramping_constant:10:20s");
        Assert.Equal(new LoadSimulation(LoadSimulationKind.RampingConstant, 10, TimeSpan.FromSeconds(20)), ramp);
        Assert.Equal("ramping_constant, copies: 10, during: 00:00:20", ramp.ToString());
        Assert.Throws<FormatException>(() => LoadSimulation.Parse("inject:5:10s"));

        var timeline = new CallsRunOptions { Calls = 4, Ramp = TimeSpan.FromSeconds(10), Duration = TimeSpan.FromSeconds(30) }.Timeline();
        Assert.Equal([LoadSimulationKind.RampingConstant, LoadSimulationKind.KeepConstant], timeline.Select(s => s.Kind));
    }

    [Fact]
    public void Flow_tracker_tells_new_late_duplicate_and_wrapped_sequences()
    {
        var flow = new FlowTracker(senderId: 1, receiverId: 2, firstSequence: uint.MaxValue - 1);

        Assert.Equal(FrameVerdict.New, flow.Record(uint.MaxValue - 1));
        Assert.Equal(FrameVerdict.New, flow.Record(1)); // wrapped past 0
        Assert.Equal(FrameVerdict.NewOutOfOrder, flow.Record(uint.MaxValue));
        Assert.Equal(FrameVerdict.Duplicate, flow.Record(1));
        Assert.Equal(FrameVerdict.Unexpected, flow.Record(uint.MaxValue - 5));
        Assert.Equal((3L, 1L, 1L, 1L), (flow.Unique, flow.Duplicates, flow.OutOfOrder, flow.Unexpected));
    }

    [Fact]
    public void Latency_stats_report_milliseconds_and_percentiles()
    {
        var stats = new LatencyStats();
        for (var ms = 1; ms <= 100; ms++)
        {
            stats.Record(ms * 1000);
        }

        var summary = stats.Summary();
        Assert.Equal(100, summary.Count);
        Assert.Equal(1, summary.MinMs, 2);
        Assert.Equal(100, summary.MaxMs, 2);
        Assert.InRange(summary.P50Ms, 49.9, 50.1);
        Assert.InRange(summary.P99Ms, 98.9, 99.1);
    }

    [Fact]
    public void Relay_metrics_are_summed_over_labels()
    {
        var values = RelayMetricsScraper.Parse("""
            # TYPE pgvideochat_frames_dropped_total counter
            pgvideochat_frames_dropped_total{kind="video",reason="queue_full"} 3 1732500000000
            pgvideochat_frames_dropped_total{kind="audio",reason="queue_full"} 4 1732500000000
            pgvideochat_replication_lag_bytes 12345
            http_server_active_requests 1
            """);

        Assert.Equal(7, values["pgvideochat_frames_dropped_total"]);
        Assert.Equal(3, values["pgvideochat_frames_dropped_total{kind=\"video\",reason=\"queue_full\"}"]);
        Assert.Equal(12345, values["pgvideochat_replication_lag_bytes"]);
        Assert.False(values.ContainsKey("http_server_active_requests"));
    }

    [Fact]
    public void Several_relays_metrics_sum_counters_and_take_the_largest_slot_lag()
    {
        var merged = RelayMetricsScraper.Merge(
        [
            RelayMetricsScraper.Parse("""
                pgvideochat_frames_forwarded_total{kind="video"} 10
                pgvideochat_ingest_batch_size_sum 30
                pgvideochat_ingest_batch_size_count 10
                pgvideochat_replication_lag_bytes 500
                pgvideochat_replication_lag_seconds 0.5
                """),
            RelayMetricsScraper.Parse("""
                pgvideochat_frames_forwarded_total{kind="video"} 5
                pgvideochat_ingest_batch_size_sum 10
                pgvideochat_ingest_batch_size_count 10
                pgvideochat_replication_lag_bytes 2000
                pgvideochat_replication_lag_seconds 0.1
                """),
        ]);

        Assert.Equal(15, merged["pgvideochat_frames_forwarded_total"]);
        Assert.Equal(15, merged["pgvideochat_frames_forwarded_total{kind=\"video\"}"]);
        Assert.Equal(40, merged["pgvideochat_ingest_batch_size_sum"]);
        Assert.Equal(20, merged["pgvideochat_ingest_batch_size_count"]);
        Assert.Equal(2000, merged["pgvideochat_replication_lag_bytes"]);
        Assert.Equal(0.5, merged["pgvideochat_replication_lag_seconds"]);
    }

    [Fact]
    public void Svg_charts_are_self_contained()
    {
        var svg = ReportWriter.Svg(new Chart("lag", "bytes", [new ChartSeries("slot", "#d62728", [(0, 0), (1, 1024), (2, 512)])]));
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("<polyline", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("http://cdn", svg, StringComparison.Ordinal);
    }
}
