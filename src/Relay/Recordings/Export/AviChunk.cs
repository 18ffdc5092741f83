namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// One chunk of an export's <c>movi</c> list, in file order. <paramref name="Frame"/> is the index (in the plan's
/// frames) of the JPEG a video chunk carries, or -1 for an empty chunk (the player repeats the previous picture) and
/// for audio. <paramref name="ReadUpTo"/> is how many of the recording's frames must have been read before the chunk
/// can be written: its JPEG, or every audio frame that lands in its 100 ms. 16 bytes.
/// </summary>
internal readonly record struct AviChunk(int Stream, int Size, int Frame, int ReadUpTo);
