using PgVideoChat.Relay.Transport;

namespace PgVideoChat.Relay.UnitTests.Transport;

/// <summary>The transport's memory pool: whole-frame blocks, reused, never handed to two renters.</summary>
public sealed class FrameBlockMemoryPoolTests
{
    [Fact]
    public void A_block_holds_a_whole_video_frame_and_is_reused_after_dispose()
    {
        using var pool = new FrameBlockMemoryPoolFactory().Create();
        var first = pool.Rent(2048);
        Assert.Equal(FrameBlockMemoryPool.BlockSize, first.Memory.Length);
        Assert.True(first.Memory.Length >= (40 * 1024) + Protocol.MediaFrameHeader.Size, "a block should hold a 640×360 JPEG frame (25–40 KB) and its header");
        var array = Array(first);
        first.Dispose();

        using var second = pool.Rent();
        Assert.Same(array, Array(second));
    }

    [Fact]
    public void Disposing_a_block_twice_returns_it_once()
    {
        using var pool = new FrameBlockMemoryPool();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();
        Assert.Throws<ObjectDisposedException>(() => block.Memory);

        using var a = pool.Rent();
        using var b = pool.Rent();
        Assert.NotSame(Array(a), Array(b));
    }

    [Fact]
    public void Asking_for_more_than_a_block_is_refused()
    {
        using var pool = new FrameBlockMemoryPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(FrameBlockMemoryPool.BlockSize + 1));
    }

    private static byte[] Array(System.Buffers.IMemoryOwner<byte> owner)
        => System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(owner.Memory, out var segment) ? segment.Array! : throw new InvalidOperationException("not array-backed");
}
