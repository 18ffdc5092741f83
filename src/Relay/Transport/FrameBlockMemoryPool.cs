using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace PgVideoChat.Relay.Transport;

/// <summary>
/// Kestrel's memory pool with blocks big enough for a whole video frame. Kestrel's socket transport receives into
/// one pool block per read, and its default blocks are 4 KiB: a 25 KB frame took 7 receive calls, 7 pipe flushes and 7
/// trips through the WebSocket reader (docs/benchmarks.md has the syscall counts). With 64 KiB blocks a frame takes
/// one or two. Registered as the host's <see cref="IMemoryPoolFactory{T}"/>, which the
/// socket transport asks for its pools; blocks are pinned (the transport pins them for every socket operation) and
/// a bounded number are kept for reuse.
/// </summary>
internal sealed class FrameBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new FrameBlockMemoryPool();
}

/// <summary>A pool of pinned 64 KiB blocks; see <see cref="FrameBlockMemoryPoolFactory"/>.</summary>
internal sealed class FrameBlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 64 * 1024;

    // Enough for a few hundred busy connections; beyond it blocks are left to the GC instead of held forever.
    private const int MaxRetainedBlocks = 512;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _retained;
    private bool _disposed;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _retained);
            block.Lease();
            return block;
        }

        var fresh = new Block(this);
        fresh.Lease();
        return fresh;
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (!_disposed && Interlocked.Increment(ref _retained) <= MaxRetainedBlocks)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    private sealed class Block(FrameBlockMemoryPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        private int _leased;

        public Memory<byte> Memory => Volatile.Read(ref _leased) == 1 ? _array : throw new ObjectDisposedException(nameof(Block));

        public void Lease() => Volatile.Write(ref _leased, 1);

        public void Dispose()
        {
            // A second Dispose must not put the block in the free list twice (two renters would share it).
            if (Interlocked.Exchange(ref _leased, 0) == 1)
            {
                pool.Return(this);
            }
        }
    }
}
