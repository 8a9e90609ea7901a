"""What the functions run with: PyJWT inside the code asset, the Powertools layer of
the deployment's partition and Region."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import FileSystem

from crudops_local.cloudformation.template import Pseudo, Resolver, Template
from infra.lambda_function import POWERTOOLS_LAYER_NAME, stage_lambda_source
from infra.settings import StackSettings
from tests.infra.helpers import Resources, of_type, props
from tools.synth import SynthResult

FUNCTION = "AWS::Lambda::Function"


def _asset_dir(resources: Resources, synthesized: SynthResult) -> Path:
    (key,) = {str(props(f)["Code"]["S3Key"]) for f in of_type(resources, FUNCTION).values()}
    return synthesized.template.parent / f"asset.{key.removesuffix('.zip')}"


def test_the_asset_carries_pyjwt_with_its_version_and_license(
        resources: Resources, synthesized: SynthResult) -> None:
    asset = _asset_dir(resources, synthesized)
    assert (asset / "jwt" / "__init__.py").is_file()
    assert (asset / "jwt" / "jwks_client.py").is_file()
    version = importlib.metadata.version("pyjwt")
    dist_info = asset / f"pyjwt-{version}.dist-info"
    assert (dist_info / "METADATA").is_file()
    assert list(dist_info.rglob("LICENSE*"))
    assert not list(asset.rglob("*.pyc"))


def test_staging_twice_gives_the_same_asset_hash(tmp_path: Path) -> None:
    """A redeploy without a code change must not replace every function's code."""
    first = stage_lambda_source(tmp_path / "first")
    hash_before = FileSystem.fingerprint(str(first))
    # Touch every file: a later copy has new modification times, not new content.
    for path in first.rglob("*"):
        os.utime(path, (1, 1))
    assert FileSystem.fingerprint(str(first)) == hash_before
    second = stage_lambda_source(tmp_path / "second")
    assert FileSystem.fingerprint(str(second)) == hash_before


def test_a_package_that_is_not_installed_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not_a_package_here"):
        stage_lambda_source(tmp_path / "asset", bundled={"not_a_package_here": "nothing"})


def _layer_arn(template_json: dict[str, Any], partition: str, region: str) -> str:
    """The layer ARN CloudFormation would give the functions in `partition`/`region`."""
    template = Template(template_json)
    resolver = Resolver(template, Pseudo(region=region, partition=partition), physical={})
    layers = {
        str(resolver.resolve(props(f)["Layers"][0]))
        for f in of_type(dict(template_json["Resources"]), FUNCTION).values()
    }
    assert len(layers) == 1, layers
    return layers.pop()


@pytest.mark.parametrize(
    ("partition", "region", "publisher"),
    [
        ("aws", "us-east-1", "017000801446"),
        ("aws", "eu-west-1", "017000801446"),
        ("aws", "ap-southeast-2", "017000801446"),
        ("aws-cn", "cn-north-1", "498634801083"),
        ("aws-us-gov", "us-gov-east-1", "165087284144"),
        ("aws-us-gov", "us-gov-west-1", "165093116878"),
    ],
)
def test_the_powertools_layer_is_the_one_published_in_the_partition_and_region(
        template_json: dict[str, Any], settings: StackSettings, partition: str, region: str,
        publisher: str) -> None:
    # The accounts as Powertools' docs list them (docs/index.md, "Lambda Layer" tabs).
    assert _layer_arn(template_json, partition, region) == (
        f"arn:{partition}:lambda:{region}:{publisher}:layer:{POWERTOOLS_LAYER_NAME}:"
        f"{settings.powertools_layer_version}")

