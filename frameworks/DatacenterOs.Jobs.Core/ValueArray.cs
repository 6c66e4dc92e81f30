using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DatacenterOs.Jobs.Core;

/// <summary>
/// An immutable list with structural equality, so job records that hold lists compare by content. Serialized as a
/// JSON array; collection expressions (<c>["a", "b"]</c>) create it.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
[JsonConverter(typeof(ValueArrayJsonConverterFactory))]
[CollectionBuilder(typeof(ValueArray), nameof(ValueArray.Create))]
public sealed class ValueArray<T> : IReadOnlyList<T>, IEquatable<ValueArray<T>>
{
    private readonly ImmutableArray<T> items;

    internal ValueArray(ImmutableArray<T> items) => this.items = items;

    /// <summary>The empty list.</summary>
    [SuppressMessage("Design", "CA1000", Justification = "Same pattern as ImmutableArray<T>.Empty.")]
    public static ValueArray<T> Empty { get; } = new([]);

    /// <inheritdoc/>
    public int Count => items.Length;

    /// <summary>True when the list has no elements.</summary>
    public bool IsEmpty => items.IsEmpty;

    /// <inheritdoc/>
    public T this[int index] => items[index];

    /// <summary>A copy with <paramref name="item"/> appended.</summary>
    public ValueArray<T> Add(T item) => new(items.Add(item));

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(ValueArray<T>? other) =>
        other is not null && (ReferenceEquals(this, other) || items.SequenceEqual(other.items, EqualityComparer<T>.Default));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ValueArray<T>);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in items)
        {
            hash.Add(item);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => "[" + string.Join(", ", items) + "]";
}

/// <summary>Factory methods for <see cref="ValueArray{T}"/>.</summary>
public static class ValueArray
{
    /// <summary>Creates a list from a span (collection expressions use this).</summary>
    public static ValueArray<T> Create<T>(ReadOnlySpan<T> items) => items.IsEmpty ? ValueArray<T>.Empty : new([.. items]);

    /// <summary>Creates a list from a sequence.</summary>
    public static ValueArray<T> From<T>(IEnumerable<T> items) => new([.. items]);

    /// <summary>Creates a list from a sequence (extension form).</summary>
    public static ValueArray<T> ToValueArray<T>(this IEnumerable<T> items) => From(items);
}

internal sealed class ValueArrayJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(ValueArray<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(ValueArrayJsonConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
}

internal sealed class ValueArrayJsonConverter<T> : JsonConverter<ValueArray<T>>
{
    public override ValueArray<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"expected a JSON array, got {reader.TokenType}");
        }

        var builder = ImmutableArray.CreateBuilder<T>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var item = JsonSerializer.Deserialize<T>(ref reader, options)
                ?? throw new JsonException($"null is not allowed as an array element of {typeof(T).Name}");
            builder.Add(item);
        }

        return builder.Count == 0 ? ValueArray<T>.Empty : new ValueArray<T>(builder.ToImmutable());
    }

    public override void Write(Utf8JsonWriter writer, ValueArray<T> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value)
        {
            JsonSerializer.Serialize(writer, item, options);
        }

        writer.WriteEndArray();
    }
}
