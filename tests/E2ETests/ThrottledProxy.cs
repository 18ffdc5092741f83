using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PgVideoChat.E2ETests;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of one upstream (the relay) whose downstream direction (upstream → client, what
/// the client receives) can be limited to a number of bytes per second. It reads from the upstream only as fast as
/// the limit allows, into a small receive buffer, so the upstream's writes back up as they would on a slow link: the
/// relay's per-client send queue fills and drops. The client → upstream direction is never limited.
/// </summary>
public sealed class ThrottledProxy : IAsyncDisposable
{
    /// <summary>The upstream socket's receive buffer: small, so a limit backs the relay up within a second or two.</summary>
    private const int UpstreamReceiveBuffer = 32 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private long _bytesPerSecond;
    private long _bytesDown;

    public ThrottledProxy(Uri upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        _upstream = upstream;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>http://127.0.0.1:port, to stand where the upstream's URL would.</summary>
    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>The downstream limit in bytes per second; 0 is none.</summary>
    public long BytesPerSecond
    {
        get => Interlocked.Read(ref _bytesPerSecond);
        set => Interlocked.Exchange(ref _bytesPerSecond, Math.Max(0, value));
    }

    /// <summary>Bytes passed downstream so far (all connections).</summary>
    public long BytesDown => Interlocked.Read(ref _bytesDown);

    /// <summary>Connections accepted so far.</summary>
    public int Connections { get; private set; }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Connections++;
            lock (_connections)
            {
                _connections.RemoveAll(static t => t.IsCompleted);
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            client.NoDelay = true;
            upstream.NoDelay = true;
            upstream.ReceiveBufferSize = UpstreamReceiveBuffer; // before connecting: it sets the window offered
            try
            {
                await upstream.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
                using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                var up = PumpAsync(client.GetStream(), upstream.GetStream(), limited: false, done.Token);
                var down = PumpAsync(upstream.GetStream(), client.GetStream(), limited: true, done.Token);
                await Task.WhenAny(up, down);
                await done.CancelAsync();
                await Task.WhenAll(up, down).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool limited, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var clock = Stopwatch.StartNew();
        var due = TimeSpan.Zero; // when the bytes passed so far may have passed at the limit
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var rate = limited ? BytesPerSecond : 0;
                // Under a limit, small reads (20 a second at most) keep the pace smooth.
                var size = rate > 0 ? (int)Math.Clamp(rate / 20, 512, buffer.Length) : buffer.Length;
                var read = await from.ReadAsync(buffer.AsMemory(0, size), cancellationToken);
                if (read == 0)
                {
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                if (!limited)
                {
                    continue;
                }

                Interlocked.Add(ref _bytesDown, read);
                if (rate <= 0)
                {
                    continue;
                }

                // No credit for idle time beyond a tenth of a second: the limit is a rate, not a budget.
                var now = clock.Elapsed;
                if (due < now - TimeSpan.FromMilliseconds(100))
                {
                    due = now - TimeSpan.FromMilliseconds(100);
                }

                due += TimeSpan.FromSeconds((double)read / rate);
                if (due > now)
                {
                    await Task.Delay(due - now, cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        _stop.Dispose();
    }
}
