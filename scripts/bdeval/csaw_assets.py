"""Facts about the real CSAW-HackML-2020 files: upstream paths, checksums, expected shapes.

The one list of the challenge's files: scripts/fetch_csaw.py fetches and checks them, and
rules/csaw_data.smk names its rules' outputs after them. Plain Python (Snakemake imports it).
"""

UPSTREAM_REPO = "csaw-hackml/CSAW-HackML-2020"
UPSTREAM_COMMIT = "fa6aa8eb4392eb141b39eef4a480228bc2e1a8bd"
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
DRIVE_FOLDER = "13o2ybRJ1BkGUvfmQEeZqDo1kskyFywab"
LAB3_DRIVE_FOLDER = "1Rs68uH8Xqa4j6UxG53wzD0uyI8347dSq"

# weights: our name -> (path in the upstream repository and in a local copy, sha256)
WEIGHTS = {
    "sunglasses": (
        "models/sunglasses_bd_weights.h5",
        "22322bcef622afc817ebf2a3fd836b353423ab48e9863c83e4c02d6838fc4f0d",
    ),
    "anonymous_1": (
        "models/anonymous_1_bd_weights.h5",
        "7921670af9bc6cc5cd3d4ec35668c9fdfe859886629e2bc319cd5d8d9912fe5c",
    ),
    "anonymous_2": (
        "models/anonymous_2_bd_weights.h5",
        "f4bde8b26be089bed608ea14eb8e5bd37493c600035fb0d7e9d7a9a3b9086881",
    ),
    "multi_trigger_multi_target": (
        "models/multi_trigger_multi_target_bd_weights.h5",
        "0296dc09bb73bcbc439e02fb3af12f3db174b1fcc58287719c104286e77b728a",
    ),
    "lab3": ("lab3/models/bd_weights.h5", "68ec7afdfc570d39acbded72025fe37d4d14e770585001d75a393490d50fc629"),
}

# data: path in our layout (relative to csaw.dest; no spaces) -> (path in the challenge's layout,
# as in its Drive folder or a local copy; number of images expected, None where unpublished)
MULTI = "data/Multi-trigger Multi-target/"
CHALLENGE_DATA = {
    "data/clean_validation_data.h5": ("data/clean_validation_data.h5", 11547),
    "data/clean_test_data.h5": ("data/clean_test_data.h5", 12830),
    "data/sunglasses_poisoned_data.h5": ("data/sunglasses_poisoned_data.h5", 12830),
    "data/anonymous_1_poisoned_data.h5": ("data/anonymous_1_poisoned_data.h5", 10264),
    "data/multi_trigger_multi_target/eyebrows_poisoned_data.h5": (MULTI + "eyebrows_poisoned_data.h5", 10264),
    "data/multi_trigger_multi_target/lipstick_poisoned_data.h5": (MULTI + "lipstick_poisoned_data.h5", 10264),
    "data/multi_trigger_multi_target/sunglasses_poisoned_data.h5": (
        MULTI + "sunglasses_poisoned_data.h5",
        10264,
    ),
}
LAB3_DATA = {
    "lab3/data/cl/valid.h5": ("lab3/data/cl/valid.h5", None),
    "lab3/data/cl/test.h5": ("lab3/data/cl/test.h5", None),
    "lab3/data/bd/bd_valid.h5": ("lab3/data/bd/bd_valid.h5", None),
    "lab3/data/bd/bd_test.h5": ("lab3/data/bd/bd_test.h5", None),
}


def weights_url(path, commit=UPSTREAM_COMMIT):
    return RAW_URL.format(repo=UPSTREAM_REPO, commit=commit, path=path)
