using System.Globalization;
using PgVideoChat.LoadTests.Monitoring;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace PgVideoChat.LoadTests.Progress;

/// <summary>Live progress of a run: a Spectre.Console live table on a terminal, plain lines otherwise.</summary>
public abstract class ProgressView : IAsyncDisposable
{
    /// <summary>Picks the live view on an interactive terminal, plain lines when output is redirected, asked for, or a writer is given.</summary>
    public static ProgressView Create(OutputOptions output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Writer is { } writer)
        {
            return new PlainProgressView(writer);
        }

        var interactive = !output.Plain && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        return interactive ? new LiveProgressView() : new PlainProgressView(Console.Out);
    }

    public abstract void Start(string title);

    public abstract void Log(string line);

    public abstract void Update(Sample sample, string status);

    /// <summary>Stops the live display (so that a final summary prints below it).</summary>
    public abstract Task StopAsync();

    /// <summary>Prints a line after the run (below the live display).</summary>
    public abstract void WriteLine(string line);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        GC.SuppressFinalize(this);
    }

    protected static string Line(Sample s, string status)
    {
        var parts = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"[{s.T,6:0}s] {s.Phase,-7} calls {s.Calls,3}"),
            string.Create(CultureInfo.InvariantCulture, $"video {s.VideoDelivered,4}/s p50 {s.VideoP50Ms,5:0.0} p99 {s.VideoP99Ms,6:0.0} ms"),
            string.Create(CultureInfo.InvariantCulture, $"audio {s.AudioDelivered,4}/s p99 {s.AudioP99Ms,6:0.0} ms"),
            "slot lag " + Bytes(s.SlotLagBytes ?? (long?)s.RelayLagBytes),
            s.RelayCount == 1
                ? string.Create(CultureInfo.InvariantCulture, $"relay cpu {Pct(s.RelayCpuPercent)} rss {Bytes(s.RelayRssBytes)}")
                : string.Create(CultureInfo.InvariantCulture, $"{s.RelayCount} relays cpu {Pct(s.RelayCpuPercent)} ({string.Join("+", s.Relays.Select(r => Pct(r.CpuPercent)))}) rss {Bytes(s.RelayRssBytes)} | front door cpu {Pct(s.FrontDoorCpuPercent)}"),
            string.Create(CultureInfo.InvariantCulture, $"pg cpu {Pct(s.PostgresCpuPercent)} wal cpu {Pct(s.WalsenderCpuPercent)}"),
            string.Create(CultureInfo.InvariantCulture, $"runner cpu {Pct(s.RunnerCpuPercent)}"),
        };
        if (status.Length > 0)
        {
            parts.Add(status);
        }

        return string.Join(" | ", parts);
    }

    internal static string Pct(double? value) => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0}%") : "n/a";

    internal static string Bytes(double? value) => value switch
    {
        null => "n/a",
        >= 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{value / (1 << 30):0.0} GB"),
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{value / (1 << 20):0.0} MB"),
        >= 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{value / (1 << 10):0} KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value:0} B"),
    };
}

/// <summary>One line per event and per second, for logs and CI.</summary>
internal sealed class PlainProgressView(TextWriter writer) : ProgressView
{
    private readonly Lock _gate = new();

    public override void Start(string title) => Log(title);

    public override void Log(string line)
    {
        lock (_gate)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.Now:HH:mm:ss} {line}"));
            writer.Flush();
        }
    }

    public override void Update(Sample sample, string status)
    {
        lock (_gate)
        {
            writer.WriteLine(Line(sample, status));
            writer.Flush();
        }
    }

    public override Task StopAsync() => Task.CompletedTask;

    public override void WriteLine(string line) => Log(line);
}

/// <summary>A live table redrawn twice a second, with the latest log lines under it.</summary>
internal sealed class LiveProgressView : ProgressView
{
    private readonly Lock _gate = new();
    private readonly Queue<string> _log = new();
    private readonly CancellationTokenSource _stop = new();
    private Sample? _sample;
    private string _status = string.Empty;
    private string _title = string.Empty;
    private Task? _live;

    public override void Start(string title)
    {
        _title = title;
        _live = AnsiConsole.Live(Render()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async context =>
        {
            while (!_stop.IsCancellationRequested)
            {
                context.UpdateTarget(Render());
                context.Refresh();
                try
                {
                    await Task.Delay(500, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }

            context.UpdateTarget(Render());
            context.Refresh();
        });
    }

    public override void Log(string line)
    {
        if (_live is null)
        {
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{DateTime.Now:HH:mm:ss} {line}")));
            return;
        }

        lock (_gate)
        {
            _log.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{DateTime.Now:HH:mm:ss} {line}"));
            while (_log.Count > 8)
            {
                _log.Dequeue();
            }
        }
    }

    public override void Update(Sample sample, string status)
    {
        lock (_gate)
        {
            _sample = sample;
            _status = status;
        }
    }

    public override async Task StopAsync()
    {
        if (_live is null)
        {
            return;
        }

        await _stop.CancelAsync();
        await _live.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _live = null;
    }

    public override void WriteLine(string line) => Log(line);

    private static void Row(Table table, string name, string value) => table.AddRow(new Text(name), new Text(value));

    private IRenderable Render()
    {
        Sample? s;
        string status;
        string[] log;
        lock (_gate)
        {
            s = _sample;
            status = _status;
            log = [.. _log];
        }

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(_title));
        table.AddColumn("what");
        table.AddColumn("now");
        if (s is not null)
        {
            Row(table, "elapsed / phase", string.Create(CultureInfo.InvariantCulture, $"{s.T:0} s / {s.Phase}"));
            Row(table, "calls / participants", string.Create(CultureInfo.InvariantCulture, $"{s.Calls} / {s.Participants}"));
            Row(table, "video delivered", string.Create(CultureInfo.InvariantCulture, $"{s.VideoDelivered}/s (sent {s.VideoSent}/s), p50 {s.VideoP50Ms:0.0} ms, p99 {s.VideoP99Ms:0.0} ms, max {s.VideoMaxMs:0.0} ms"));
            Row(table, "audio delivered", string.Create(CultureInfo.InvariantCulture, $"{s.AudioDelivered}/s (sent {s.AudioSent}/s), p50 {s.AudioP50Ms:0.0} ms, p99 {s.AudioP99Ms:0.0} ms, max {s.AudioMaxMs:0.0} ms"));
            Row(table, "slot lag (postgres / relay)", $"{Bytes(s.SlotLagBytes)} / {Bytes(s.RelayLagBytes)}, {(s.RelayLagSeconds is { } sec ? sec.ToString("0.000", CultureInfo.InvariantCulture) + " s" : "n/a")}");
            Row(table, "WAL rate", Bytes(s.WalBytesPerSecond) + "/s");
            if (s.RelayCount == 1)
            {
                Row(table, "relay cpu / rss", $"{Pct(s.RelayCpuPercent)} / {Bytes(s.RelayRssBytes)}");
            }
            else
            {
                Row(table, string.Create(CultureInfo.InvariantCulture, $"{s.RelayCount} relays cpu / rss (sum)"), $"{Pct(s.RelayCpuPercent)} / {Bytes(s.RelayRssBytes)} ({string.Join(", ", s.Relays.Select(r => $"{r.Name} {Pct(r.CpuPercent)}"))})");
                Row(table, "front door cpu / rss", $"{Pct(s.FrontDoorCpuPercent)} / {Bytes(s.FrontDoorRssBytes)}");
            }

            Row(table, "postgres cpu / rss", $"{Pct(s.PostgresCpuPercent)} / {Bytes(s.PostgresRssBytes)}");
            Row(table, "walsender cpu (part of postgres)", string.Create(CultureInfo.InvariantCulture, $"{Pct(s.WalsenderCpuPercent)} ({(s.Walsenders is { } n ? n.ToString(CultureInfo.InvariantCulture) : "n/a")} walsenders)"));
            Row(table, "runner cpu / machine cpu", $"{Pct(s.RunnerCpuPercent)} / {Pct(s.MachineCpuPercent)} (send lateness p99 {s.SendLatenessP99Ms.ToString("0.0", CultureInfo.InvariantCulture)} ms)");
            Row(table, s.RelayCount == 1 ? "relay queues (ingest / fan-out)" : "relay queues (ingest / fan-out, summed)", string.Create(CultureInfo.InvariantCulture, $"{s.IngestQueueDepth ?? 0:0} / {s.FanOutQueueDepth ?? 0:0}"));
        }
        else
        {
            Row(table, "status", "starting…");
        }

        if (status.Length > 0)
        {
            Row(table, "status", status);
        }

        var rows = new List<IRenderable> { table };
        rows.AddRange(log.Select(l => new Text(l)));
        return new Rows(rows);
    }
}
