using System.Buffers.Binary;
using Orleans.Serialization;
using Orleans.Storage;

namespace Sessions.Storage;

/// <summary>
/// Grain-state payload: a 9-byte header (format 1, purge-after as big-endian Unix seconds rounded up
/// to the hour, 0 = keep)
/// followed by the Orleans binary serialization of the state. The storage SQL copies the header
/// into an indexed column so expired rows can be purged without reading payloads.
/// </summary>
public sealed class StateSerializer(Serializer serializer) : IGrainStorageSerializer
{
    public const byte Format = 1;
    public const int HeaderLength = 9;

    private readonly OrleansGrainStorageSerializer _body = new(serializer);

    public BinaryData Serialize<T>(T? input)
    {
        var body = _body.Serialize(input).ToMemory().Span;
        var purgeAfter = input is IPurgeable { PurgeAfter: { } at } ? RoundUpToHour(at) : 0;
        var payload = new byte[HeaderLength + body.Length];
        payload[0] = Format;
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(1, 8), purgeAfter);
        body.CopyTo(payload.AsSpan(HeaderLength));
        return new BinaryData(payload);
    }

    /// <summary>
    /// Whole hours: a rotation moves the idle deadline by minutes, so the indexed purge column keeps
    /// its value and PostgreSQL can update the row in place (HOT) instead of writing index entries.
    /// </summary>
    private static long RoundUpToHour(DateTimeOffset at)
    {
        const long hour = 3600;
        var seconds = Math.Max(1, at.ToUnixTimeSeconds());
        return (seconds + hour - 1) / hour * hour;
    }

    public T? Deserialize<T>(BinaryData input)
    {
        var payload = input.ToMemory();
        if (payload.Length < HeaderLength || payload.Span[0] != Format)
            throw new NotSupportedException($"Grain state payload has an unknown format (first byte {(payload.Length > 0 ? payload.Span[0] : -1)}).");
        return _body.Deserialize<T>(new BinaryData(payload[HeaderLength..]));
    }
}
