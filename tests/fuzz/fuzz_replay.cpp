// Replays files through a fuzz target without libFuzzer, so the seed corpus and every input
// that once crashed run in the normal test suite under any compiler. Linked once per target;
// the target's own oracle aborts on a mismatch, which CTest reports as a failure.
//
//   replay_fuzz_<target> <file or directory>...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size);

namespace fs = std::filesystem;

namespace {
void collect(const fs::path &path, std::vector<fs::path> &files)
{
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        for (const auto &entry : fs::recursive_directory_iterator(path, ec)) {
            // README files describe a directory; they are not inputs.
            if (entry.is_regular_file() && entry.path().extension() != ".md")
                files.push_back(entry.path());
        }
    } else if (fs::is_regular_file(path, ec)) {
        files.push_back(path);
    }
}
} // namespace

int main(int argc, char **argv)
{
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i)
        collect(argv[i], files);
    // A fixed order makes a failure reproducible by the file printed last.
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::fprintf(stderr, "no input files: the corpus directory is missing or empty\n");
        return 1;
    }
    for (const fs::path &file : files) {
        std::ifstream in(file, std::ios::binary);
        const std::vector<char> bytes {
            std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        std::fprintf(stderr, "%s\n", file.c_str());
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t *>(bytes.data()), bytes.size());
    }
    std::printf("replayed %zu inputs\n", files.size());
    return 0;
}
