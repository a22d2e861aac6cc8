// The tests check the native mirror (status names, struct layout) directly.
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("X8.Tests")]
