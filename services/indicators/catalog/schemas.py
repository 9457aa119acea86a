from __future__ import annotations

from pydantic import BaseModel, Field

from services.indicators.expressions.names import Kind, Source


class CatalogDimension(BaseModel):
    name: str
    values: list[str] | None = Field(description="The values it takes, or null when open.")


class CatalogMeasure(BaseModel):
    name: str = Field(description="What an expression writes: `#{name|dimension=value}`.")
    source: Source
    kind: Kind = Field(description="count and sum add up across cells; a level does not.")
    unit: str
    description: str
    dimensions: list[CatalogDimension]


class Catalog(BaseModel):
    measures: list[CatalogMeasure]
    indicators: list[str] = Field(description="Codes of the indicators an expression may use.")
    status_rule: str = Field(description="How a value's status against its targets is set.")
