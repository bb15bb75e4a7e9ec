"""The ideas unit tests' in-memory repository and unit of work (a module may override them)."""
import pytest

from tests.fakes import FakeUnitOfWork
from tests.ideas.unit.fakes import FakeIdeasRepository


@pytest.fixture
def repo():
    return FakeIdeasRepository()


@pytest.fixture
def uow(repo):
    return FakeUnitOfWork("ideas", repo)
