using System.Diagnostics;
using System.Globalization;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Monitoring;
using PgVideoChat.LoadTests.Progress;
using PgVideoChat.LoadTests.Reports;
using PgVideoChat.LoadTests.Runs;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.LoadTests.Target;

namespace PgVideoChat.LoadTests.Scenario;

/// <summary>What a calls run reports: the NBomber-style scenario, the sections of figures, the charts, the timeline and the console summary.</summary>
internal static class CallsReport
{
    /// <summary>Mean steal from which a report warns that the run measured a smaller machine (calm hours here: 0–3 %).</summary>
    internal const double NoisyStealPercent = 5;

    internal static ScenarioReport Scenario(string name, MeasurementWindow window, IReadOnlyList<LoadSimulation> simulations)
    {
        var seconds = Math.Max(0.001, window.Duration.TotalSeconds);
        StepReport Media(string step, KindStats stats)
        {
            var delivered = stats.Delivered;
            var lost = Math.Max(0, stats.Expected - delivered);
            return new StepReport
            {
                Name = step,
                Ok = delivered,
                Failed = lost,
                OkRps = delivered / seconds,
                FailRps = lost / seconds,
                Latency = stats.Latency.Summary(),
                DataMinKb = stats.MinBytes / 1024.0,
                DataMeanKb = delivered == 0 ? 0 : stats.DeliveredBytes / 1024.0 / delivered,
                DataMaxKb = stats.MaxBytes / 1024.0,
                DataAllMb = stats.DeliveredBytes / 1024.0 / 1024.0,
                Note = string.Create(CultureInfo.InvariantCulture,
                    $"request = one frame to one recipient; sent {stats.Sent} frames, {stats.Expected} deliveries expected, ok = delivered, fail = lost; {stats.Duplicates} duplicates, {stats.OutOfOrder} out of order; latency = receive time - capture timestamp"),
            };
        }

        return new ScenarioReport
        {
            Name = name,
            Duration = window.Duration,
            Simulations = simulations,
            Steps =
            [
                Media("video", window.Video),
                Media("audio", window.Audio),
                new StepReport
                {
                    Name = "call_setup",
                    Ok = window.SetupOk,
                    Failed = window.SetupFailed,
                    OkRps = window.SetupOk / seconds,
                    FailRps = window.SetupFailed / seconds,
                    Latency = window.Setup.Summary(),
                    Note = "request = one call set up inside the window: sign-in of every participant, WebSocket + hello, call.invite, call.accept, until every participant sees the call active",
                },
            ],
        };
    }

    internal static List<ReportSection> Sections(CallsSummary s)
    {
        var rows = new List<KeyValuePair<string, string>>();
        void Add(string key, string value) => rows.Add(new(key, value));
        string B(double? bytes) => ProgressView.Bytes(bytes);
        foreach (var (kind, f) in s.Frames)
        {
            Add($"{kind} frames", string.Create(CultureInfo.InvariantCulture,
                $"sent {f.Sent}, deliveries expected {f.ExpectedDeliveries}, delivered {f.Delivered}, lost {f.Lost}, duplicates {f.Duplicates}, out of order {f.OutOfOrder}, delivery {f.DeliveryRatio * 100:0.###} %"));
        }

        Add("delivery ratio (both kinds)", string.Create(CultureInfo.InvariantCulture, $"{s.DeliveryRatio * 100:0.###} %"));
        var delivery = new ReportSection("delivery", [.. rows]);
        rows.Clear();
        if (s.Slot is { } slot)
        {
            Add(s.RelayCount == 1 ? "slot lag max" : string.Create(CultureInfo.InvariantCulture, $"slot lag max (largest of {s.RelayCount} slots)"), B(slot.MaxLagBytes));
            Add("slot lag max (relay, seconds)", string.Create(CultureInfo.InvariantCulture, $"{slot.MaxLagSeconds:0.###} s"));
            Add("slot lag at stop / final", $"{B(slot.LagBytesAtStop)} / {B(slot.FinalLagBytes)}");
            Add("drain time (lag back under threshold)", slot.DrainSeconds is { } d ? string.Create(CultureInfo.InvariantCulture, $"{d:0.###} s") : "did not drain");
            Add("last frame after stop", slot.LastFrameAfterStopSeconds is { } lf ? string.Create(CultureInfo.InvariantCulture, $"{lf:0.###} s") : "n/a");
            Add("lag source", slot.Source);
            Add("WAL rate mean / peak", $"{B(slot.MeanWalBytesPerSecond)}/s / {B(slot.PeakWalBytesPerSecond)}/s");
            Add("WAL sync mean / worst second", slot.MeanWalSyncMs is { } sync
                ? string.Create(CultureInfo.InvariantCulture, $"{sync:0.##} ms / {slot.PeakWalSyncMs:0.##} ms")
                : "not timed (track_wal_io_timing off)");
        }

        var substrate = new ReportSection("replication slot", [.. rows]);
        rows.Clear();
        Add("relays", s.RelayCount == 1 ? "1 (clients connect to it directly)" : string.Create(CultureInfo.InvariantCulture, $"{s.RelayCount} behind the front door (figures below summed over them unless per relay)"));
        if (s.Relay is { } relay)
        {
            var sum = s.RelayCount == 1 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", sum of {s.RelayCount} relays");
            Add("relay cpu mean / peak", $"{ProgressView.Pct(relay.MeanCpuPercent)} / {ProgressView.Pct(relay.PeakCpuPercent)} (100 % = one core{sum})");
            Add("relay rss peak / final", $"{B(relay.PeakRssBytes)} / {B(relay.FinalRssBytes)}{(sum.Length == 0 ? string.Empty : $" ({sum[2..]})")}");
        }

        if (s.RelayCount > 1)
        {
            foreach (var r in s.Relays)
            {
                Add($"{r.Name} cpu mean / peak, rss peak, slot lag max, clients", string.Create(CultureInfo.InvariantCulture,
                    $"{ProgressView.Pct(r.MeanCpuPercent)} / {ProgressView.Pct(r.PeakCpuPercent)}, {B(r.PeakRssBytes)}, {B(r.MaxSlotLagBytes)}, {(r.MaxClients is { } c ? c.ToString(CultureInfo.InvariantCulture) : "n/a")}{(r.MetricsMissedSeconds > 0 ? $"; /metrics missed {r.MetricsMissedSeconds} s" : string.Empty)}"));
            }
        }

        if (s.FrontDoor is { } frontDoor)
        {
            Add("front door cpu mean / peak, rss peak", $"{ProgressView.Pct(frontDoor.MeanCpuPercent)} / {ProgressView.Pct(frontDoor.PeakCpuPercent)}, {B(frontDoor.PeakRssBytes)} (not in the relay figures)");
        }

        if (s.RelayInternals is { } ri)
        {
            Add("relay: receive → recipient queue, mean (via Postgres)", ri.ForwardLatencyMeanMs is { } f ? string.Create(CultureInfo.InvariantCulture, $"{f:0.##} ms") : "n/a");
            Add("relay: INSERT round trip mean / frames per batch", string.Create(CultureInfo.InvariantCulture, $"{ri.InsertRoundTripMeanMs:0.##} ms / {ri.FramesPerInsertBatch:0.##}"));
            Add("relay: frames ingested / forwarded per second", string.Create(CultureInfo.InvariantCulture, $"{ri.IngestedFramesPerSecond:0.#} / {ri.ForwardedFramesPerSecond:0.#}"));
        }

        if (s.Postgres is { } pg)
        {
            Add("postgres cpu mean / peak", $"{ProgressView.Pct(pg.MeanCpuPercent)} / {ProgressView.Pct(pg.PeakCpuPercent)} (postmaster + backends + walsenders)");
            Add("postgres rss peak", B(pg.PeakRssBytes));
        }

        if (s.Walsenders is { } ws)
        {
            var count = ws.MinCount is not { } min || ws.MaxCount is not { } max ? "n/a"
                : min == max ? string.Create(CultureInfo.InvariantCulture, $"{max}")
                : string.Create(CultureInfo.InvariantCulture, $"{min}–{max}");
            Add("walsender cpu mean / peak", string.Create(CultureInfo.InvariantCulture,
                $"{ProgressView.Pct(ws.MeanCpuPercent)} / {ProgressView.Pct(ws.PeakCpuPercent)} ({count} walsenders, summed; part of postgres cpu)"));
        }

        if (s.Runner is { } runner)
        {
            Add("runner cpu mean / peak", string.Create(CultureInfo.InvariantCulture, $"{runner.MeanCpuPercent:0.#} % / {runner.PeakCpuPercent:0.#} %"));
            Add("runner send lateness p50 / p99 / max", string.Create(CultureInfo.InvariantCulture, $"{runner.SendLatenessP50Ms:0.###} / {runner.SendLatenessP99Ms:0.###} / {runner.SendLatenessMaxMs:0.###} ms"));
            Add("runner skipped / failed sends / unexpected frames", string.Create(CultureInfo.InvariantCulture, $"{runner.SkippedFrames} / {runner.SendFailures} / {runner.UnexpectedFrames}"));
        }

        if (s.CostPerCallSecond is { } cost)
        {
            Add("cost of one call per second", CostText(cost));
        }

        if (s.Recording is { } recording)
        {
            Add("recording (--record)", RecordingText(recording));
        }

        if (s.RecordingTotals is { } totals)
        {
            Add("recordings at the end", RecordingTotalsText(totals));
        }

        Add("disk writes mean", s.MeanDiskWriteBytesPerSecond is { } disk ? $"{B(disk)}/s (all of the machine's disks)" : "n/a");
        Add("machine cpu mean", s.MachineMeanCpuPercent is { } m ? string.Create(CultureInfo.InvariantCulture, $"{m:0.#} % of all cores") : "n/a");
        Add("stolen by the hypervisor mean / peak", s.StealMeanPercent is { } st
            ? string.Create(CultureInfo.InvariantCulture, $"{st:0.#} % / {s.StealPeakPercent:0.#} % of all cores{(st >= CallsReport.NoisyStealPercent ? " — the VM had less CPU than it has: compare this run only with runs of like steal" : string.Empty)}")
            : "n/a");
        if (s.CallSetup is { } setup)
        {
            Add("call set-up ok / failed", string.Create(CultureInfo.InvariantCulture, $"{setup.Ok} / {setup.Failed}, p50 {setup.LatencyMs.P50:0.#} ms, p99 {setup.LatencyMs.P99:0.#} ms"));
        }

        Add("errors from the relay", s.Errors.Count == 0 ? "none" : string.Join(", ", s.Errors.Select(e => $"{e.Key}: {e.Value}")));
        Add("unexpected disconnects", s.Disconnects.Count == 0 ? "none" : string.Join(", ", s.Disconnects.Select(e => $"{e.Key}: {e.Value}")));
        Add("flows with duplicates / reordering", s.FlowsWithLoss.ToString(CultureInfo.InvariantCulture));
        var processes = new ReportSection("processes", [.. rows]);
        rows.Clear();
        foreach (var (name, value) in s.RelayCounters)
        {
            Add(name, ReportWriter.F(value, 0));
        }

        var counters = new ReportSection(s.RelayCount == 1 ? "relay counters at the end (/metrics)" : string.Create(CultureInfo.InvariantCulture, $"relay counters at the end (/metrics of each relay, summed over {s.RelayCount})"), [.. rows]);
        List<ReportSection> sections = [delivery, substrate, processes, counters];
        if (s.Host is { } host)
        {
            sections.Add(host.Section());
        }

        return sections;
    }

    internal static List<Chart> Charts(IReadOnlyList<Sample> samples)
    {
        ChartSeries S(string name, string color, Func<Sample, double?> value) =>
            new(name, color, [.. samples.Where(s => value(s).HasValue).Select(s => (s.T, value(s)!.Value))]);
        var names = RelayNames(samples);
        var several = names.Count > 1;
        if (!several)
        {
            names = [];
        }

        var frontDoor = samples.Any(s => s.FrontDoorCpuPercent.HasValue);
        return
        [
            new Chart("latency (per second)", "ms",
            [
                S("video p50", "#1f77b4", s => s.VideoDelivered > 0 ? s.VideoP50Ms : null),
                S("video p99", "#0b3d91", s => s.VideoDelivered > 0 ? s.VideoP99Ms : null),
                S("audio p50", "#2ca02c", s => s.AudioDelivered > 0 ? s.AudioP50Ms : null),
                S("audio p99", "#145a14", s => s.AudioDelivered > 0 ? s.AudioP99Ms : null),
            ]),
            new Chart("slot lag", "bytes",
            [
                S("postgres: wal_lsn - confirmed_flush", "#d62728", s => s.SlotLagBytes),
                S("relay gauge", "#ff9896", s => s.RelayLagBytes),
            ]),
            new Chart("slot lag (relay, seconds)", "s", [S("pgvideochat_replication_lag_seconds", "#9467bd", s => s.RelayLagSeconds)]),
            new Chart("frames per second", "frames/s",
            [
                S("video sent", "#aec7e8", s => s.VideoSent),
                S("video delivered", "#1f77b4", s => s.VideoDelivered),
                S("audio sent", "#98df8a", s => s.AudioSent),
                S("audio delivered", "#2ca02c", s => s.AudioDelivered),
            ]),
            new Chart("cpu (100 % = one core)", "%",
            [
                S(several ? "relays (sum)" : "relay", "#ff7f0e", s => s.RelayCpuPercent),
                .. names.Select((name, i) => S(name, RelayColors[i % RelayColors.Length], s => s.Relays.FirstOrDefault(r => r.Name == name)?.CpuPercent)),
                .. frontDoor ? [S("front door", "#e377c2", s => s.FrontDoorCpuPercent)] : Array.Empty<ChartSeries>(),
                S("postgres", "#8c564b", s => s.PostgresCpuPercent),
                S("walsenders", "#c5b0d5", s => s.WalsenderCpuPercent),
                S("runner", "#7f7f7f", s => s.RunnerCpuPercent),
                S("machine (all cores)", "#bcbd22", s => s.MachineCpuPercent),
                S("stolen by the hypervisor (all cores)", "#17becf", s => s.StealPercent),
            ]),
            new Chart("memory and WAL", "bytes",
            [
                S(several ? "relays rss (sum)" : "relay rss", "#ff7f0e", s => s.RelayRssBytes),
                .. frontDoor ? [S("front door rss", "#e377c2", s => s.FrontDoorRssBytes)] : Array.Empty<ChartSeries>(),
                S("WAL bytes/s", "#17becf", s => s.WalBytesPerSecond),
            ]),
            new Chart("calls", "calls", [S("established calls", "#333333", s => s.Calls)]),
        ];
    }

    private static readonly string[] RelayColors = ["#ffbb78", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5"];

    private static List<string> RelayNames(IReadOnlyList<Sample> samples) =>
        [.. samples.SelectMany(s => s.Relays).Select(r => r.Name).Distinct(StringComparer.Ordinal)];

    // relay_cpu_pct, relay_rss_bytes and the relay_* rates are sums over the relays; relay_lag_* the largest;
    // walsender_cpu_pct is the walsenders' part of postgres_cpu_pct. Per-relay and front-door columns follow the original ones.
    private static readonly string[] TimelineHeader =
    [
        "t_s", "phase", "calls", "participants", "video_sent", "video_delivered", "video_p50_ms", "video_p99_ms", "video_max_ms",
        "audio_sent", "audio_delivered", "audio_p50_ms", "audio_p99_ms", "audio_max_ms", "slot_lag_bytes", "relay_lag_bytes",
        "relay_lag_seconds", "wal_bytes_per_s", "disk_write_bytes_per_s", "relay_cpu_pct", "relay_rss_bytes", "postgres_cpu_pct",
        "walsender_cpu_pct", "postgres_rss_bytes", "runner_cpu_pct", "machine_cpu_pct", "steal_pct", "send_lateness_p99_ms", "ingest_queue", "fanout_queue", "relay_ingested_per_s",
        "relay_forwarded_per_s", "relay_dropped_per_s", "relay_count", "frontdoor_cpu_pct", "frontdoor_rss_bytes", "utc",
        "relay_forward_mean_ms", "ingest_commit_mean_ms", "wal_syncs_per_s", "wal_sync_mean_ms", "wal_segments",
        "recorded_bytes", "recording_copy_ms_per_s", "recording_frames_copied_per_s",
    ];

    /// <summary>A call's CPU and bytes per second it runs, against the number of calls (empty with fewer than two levels).</summary>
    internal static List<Chart> CostCharts(IReadOnlyList<CallCost> costs)
    {
        if (costs.Count < 2)
        {
            return [];
        }

        ChartSeries S(string name, string color, Func<CallCost, double?> value) =>
            new(name, color, [.. costs.Where(c => value(c).HasValue).Select(c => ((double)c.Calls, value(c)!.Value))]);
        return
        [
            new Chart("CPU per call-second", "ms", [
                S("relay", "#ff7f0e", c => c.RelayCpuMs),
                S("postgres", "#8c564b", c => c.PostgresCpuMs),
                S("walsenders (part of postgres)", "#c5b0d5", c => c.WalsenderCpuMs),
                S("runner", "#7f7f7f", c => c.RunnerCpuMs),
            ], XLabel: "calls"),
            new Chart("bytes per call-second", "bytes", [
                S("WAL", "#17becf", c => c.WalBytes),
                S("disk writes", "#d62728", c => c.DiskWriteBytes),
            ], XLabel: "calls"),
        ];
    }

    internal static List<IReadOnlyList<string>> TimelineRows(IReadOnlyList<Sample> samples)
    {
        string N(double? v) => v is { } x ? ReportWriter.F(x, 3) : string.Empty;
        var names = RelayNames(samples);
        var header = TimelineHeader.Concat(names.SelectMany(n =>
        {
            var column = n.Replace('-', '_');
            return new[] { column + "_cpu_pct", column + "_rss_bytes", column + "_slot_lag_bytes" };
        })).ToList();
        var rows = new List<IReadOnlyList<string>> { header };
        rows.AddRange(samples.Select(s => (IReadOnlyList<string>)
        [
            N(s.T), s.Phase, N(s.Calls), N(s.Participants), N(s.VideoSent), N(s.VideoDelivered), N(s.VideoP50Ms), N(s.VideoP99Ms), N(s.VideoMaxMs),
            N(s.AudioSent), N(s.AudioDelivered), N(s.AudioP50Ms), N(s.AudioP99Ms), N(s.AudioMaxMs), N(s.SlotLagBytes), N(s.RelayLagBytes),
            N(s.RelayLagSeconds), N(s.WalBytesPerSecond), N(s.DiskWriteBytesPerSecond), N(s.RelayCpuPercent), N(s.RelayRssBytes), N(s.PostgresCpuPercent),
            N(s.WalsenderCpuPercent), N(s.PostgresRssBytes), N(s.RunnerCpuPercent), N(s.MachineCpuPercent), N(s.StealPercent), N(s.SendLatenessP99Ms), N(s.IngestQueueDepth), N(s.FanOutQueueDepth), N(s.RelayIngestedPerSecond),
            N(s.RelayForwardedPerSecond), N(s.RelayDroppedPerSecond), N(s.RelayCount), N(s.FrontDoorCpuPercent), N(s.FrontDoorRssBytes),
            s.Utc.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), N(s.RelayForwardMeanMs), N(s.IngestCommitMeanMs),
            N(s.WalSyncsPerSecond), N(s.WalSyncMeanMs), N(s.WalSegmentFiles),
            N(s.RecordedBytes), N(s.RecordingCopyMsPerSecond), N(s.RecordingFramesCopiedPerSecond),
            .. names.SelectMany(n => s.Relays.FirstOrDefault(r => r.Name == n) is { } r
                ? new[] { N(r.CpuPercent), N(r.RssBytes), N(r.SlotLagBytes) }
                : [string.Empty, string.Empty, string.Empty]),
        ]));
        return rows;
    }

    /// <summary>"relay cpu 36%", or with several relays "3 relays cpu 95% (31% + 33% + 31%)": the sum, then each.</summary>
    /// <summary>"relay 13.3 ms, postgres 11.0 ms (walsender 2.1), runner 7.0 ms of CPU; WAL 291 KB, disk 350 KB".</summary>
    internal static string CostText(CallCost c) => string.Create(CultureInfo.InvariantCulture,
        $"relay {Ms(c.RelayCpuMs)}, postgres {Ms(c.PostgresCpuMs)} (walsenders {Ms(c.WalsenderCpuMs)}), runner {Ms(c.RunnerCpuMs)} of CPU; WAL {ProgressView.Bytes(c.WalBytes)}, disk writes {ProgressView.Bytes(c.DiskWriteBytes)}");

    /// <summary>"2 calls recorded: partitions 120 MB, +1.7 MB/s (51 MB per recorded call-minute); copy 3.1 ms/s (1.5 ms per recorded call-second, 11 ms per 1,000 frames), 80 frames/s".</summary>
    internal static string RecordingText(RecordingFigures r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.RecordedCalls} calls recorded: partitions {ProgressView.Bytes(r.PartitionBytesAtEnd)}, +{ProgressView.Bytes(r.PartitionBytesPerSecond)}/s ({ProgressView.Bytes(r.BytesPerRecordedCallMinute)} per recorded call-minute); copy-out {Ms(r.CopyMsPerSecond)}/s ({Ms(r.CopyMsPerRecordedCallSecond)} per recorded call-second, {Ms(r.CopyMsPerThousandFrames)} per 1,000 frames), {(r.FramesCopiedPerSecond is { } f ? f.ToString("0.#", CultureInfo.InvariantCulture) : "n/a")} frames/s copied");

    internal static string RecordingTotalsText(RecordingTotals t) => string.Create(CultureInfo.InvariantCulture,
        $"{t.Recordings} recordings, {t.RecordedSeconds:0.#} s recorded, partitions {ProgressView.Bytes(t.PartitionBytes)} ({ProgressView.Bytes(t.BytesPerRecordedMinute)} per recorded minute), {t.VideoFrames} video + {t.AudioFrames} audio frames{(t.Incomplete > 0 ? $"; {t.Incomplete} not yet copied to their stop" : string.Empty)}");

    private static string Ms(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "n/a";

    internal static string RelayCpuText(CallsSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.RelayCount == 1
            ? $"relay cpu {ProgressView.Pct(s.Relay?.MeanCpuPercent)}"
            : string.Create(CultureInfo.InvariantCulture, $"{s.RelayCount} relays cpu {ProgressView.Pct(s.Relay?.MeanCpuPercent)} ({string.Join(" + ", s.Relays.Select(r => ProgressView.Pct(r.MeanCpuPercent)))})");
    }

    /// <summary>"postgres cpu 40% (walsenders 25%)": Postgres in all, then the part its walsenders took.</summary>
    internal static string PostgresCpuText(CallsSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return $"postgres cpu {ProgressView.Pct(s.Postgres?.MeanCpuPercent)}{(s.Walsenders is { } ws ? $" (walsenders {ProgressView.Pct(ws.MeanCpuPercent)})" : string.Empty)}";
    }

    internal static void PrintSummary(ProgressView progress, CallsSummary s)
    {
        var v = s.Frames["video"];
        var a = s.Frames["audio"];
        var lv = s.LatencyMs["video"];
        var la = s.LatencyMs["audio"];
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"calls {s.Calls} x {s.GroupSize}, {s.DurationSeconds:0.#} s measured: video {v.Delivered}/{v.ExpectedDeliveries} delivered ({v.DeliveryRatio * 100:0.###} %), p50 {lv.P50:0.#} ms, p99 {lv.P99:0.#} ms, max {lv.Max:0.#} ms; audio {a.Delivered}/{a.ExpectedDeliveries} ({a.DeliveryRatio * 100:0.###} %), p50 {la.P50:0.#} ms, p99 {la.P99:0.#} ms, max {la.Max:0.#} ms"));
        if (s.Slot is { } slot)
        {
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"slot lag max {ProgressView.Bytes(slot.MaxLagBytes)}, final {ProgressView.Bytes(slot.FinalLagBytes)}, drain {(slot.DrainSeconds is { } d ? d.ToString("0.00", CultureInfo.InvariantCulture) + " s" : "not drained")}; WAL {ProgressView.Bytes(slot.MeanWalBytesPerSecond)}/s; {RelayCpuText(s)} (peak {ProgressView.Pct(s.Relay?.PeakCpuPercent)}), rss peak {ProgressView.Bytes(s.RelayPeakRssBytes)}{(s.FrontDoor is { } fd ? $"; front door cpu {ProgressView.Pct(fd.MeanCpuPercent)}" : string.Empty)}; {PostgresCpuText(s)}; runner cpu {ProgressView.Pct(s.Runner?.MeanCpuPercent)}"));
        }

        progress.WriteLine($"thresholds ({s.Thresholds?.MaxP99Ms} ms p99, {s.Thresholds?.MinDeliveryPercent} % delivery): {(s.Thresholds?.Passed == true ? "passed" : "FAILED: " + string.Join("; ", s.Thresholds?.Failures ?? []))}");
    }
}
