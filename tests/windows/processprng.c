/* Test scaffolding, never shipped: a stand-in bcryptprimitives.dll for Wine 8, which lacks ProcessPrng — the
 * function Rust's standard library imports for its random numbers since Rust 1.78 (real Windows 10+ has it).
 * Placed beside the test programs, it serves ProcessPrng from RtlGenRandom (advapi32's SystemFunction036). */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
