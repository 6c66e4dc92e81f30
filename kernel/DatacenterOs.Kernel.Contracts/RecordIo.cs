using System.Globalization;
using System.Text;

namespace DatacenterOs.Kernel.Contracts;

/// <summary>
/// RecordIO framing used by Mesos event streams (<c>docs/recordio.md</c>): each record is its length in bytes as
/// ASCII decimal, a line feed, then the record bytes (<c>121\n{"type":"SUBSCRIBED",…}</c>).
/// </summary>
public static class RecordIo
{
    /// <summary>Largest record accepted by <see cref="ReadAsync"/>: 64 MiB.</summary>
    public const int MaxRecordBytes = 64 * 1024 * 1024;

    /// <summary>Frames <paramref name="record"/> as one RecordIO record.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> record)
    {
        var header = Encoding.ASCII.GetBytes(record.Length.ToString(CultureInfo.InvariantCulture) + "\n");
        var result = new byte[header.Length + record.Length];
        header.CopyTo(result, 0);
        record.CopyTo(result.AsSpan(header.Length));
        return result;
    }

    /// <summary>Writes one record and flushes.</summary>
    public static async Task WriteAsync(Stream stream, ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await stream.WriteAsync(Frame(record.Span), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the next record, or null at the end of the stream.</summary>
    /// <exception cref="FormatException">The length header is not a decimal number, or the record exceeds <see cref="MaxRecordBytes"/>.</exception>
    /// <exception cref="EndOfStreamException">The stream ends inside a record.</exception>
    public static async Task<byte[]?> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long length = 0;
        var digits = 0;
        var one = new byte[1];
        while (true)
        {
            var n = await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                if (digits == 0)
                {
                    return null;
                }

                throw new EndOfStreamException("stream ended inside a RecordIO length header");
            }

            var c = one[0];
            if (c == (byte)'\n')
            {
                if (digits == 0)
                {
                    throw new FormatException("empty RecordIO length header");
                }

                break;
            }

            if (c is < (byte)'0' or > (byte)'9')
            {
                throw new FormatException($"invalid byte 0x{c:x2} in a RecordIO length header");
            }

            length = (length * 10) + (c - '0');
            digits++;
            if (length > MaxRecordBytes)
            {
                throw new FormatException($"RecordIO record of {length} bytes exceeds {MaxRecordBytes}");
            }
        }

        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer;
    }
}
