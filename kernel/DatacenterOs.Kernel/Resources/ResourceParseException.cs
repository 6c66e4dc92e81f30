namespace DatacenterOs.Kernel;

/// <summary>
/// Thrown when resource text (Mesos form, e.g. <c>cpus(web):2;mem:1024;ports:[31000-32000]</c>) or a
/// quantity list (<c>cpus:0.01|mem:32</c>) cannot be parsed. <see cref="Token"/> is the offending piece of text.
/// </summary>
public sealed class ResourceParseException : FormatException
{
    /// <summary>Creates the exception for <paramref name="token"/>, the piece of text that is wrong.</summary>
    public ResourceParseException(string token, string reason)
        : base($"invalid resource '{token}': {reason}")
    {
        Token = token;
        Reason = reason;
    }

    /// <summary>Creates an exception without a token (for serializers and tests).</summary>
    public ResourceParseException()
        : this(string.Empty, "invalid resources")
    {
    }

    /// <summary>Creates an exception with a message only.</summary>
    public ResourceParseException(string message)
        : this(string.Empty, message)
    {
    }

    /// <summary>Creates an exception wrapping an inner exception.</summary>
    public ResourceParseException(string message, Exception innerException)
        : base(message, innerException)
    {
        Token = string.Empty;
        Reason = message;
    }

    /// <summary>The offending token, e.g. <c>cpus(web:2</c>.</summary>
    public string Token { get; }

    /// <summary>Why the token is invalid, without the token.</summary>
    public string Reason { get; }
}
