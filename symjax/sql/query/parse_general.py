"""Parse the SQL people write about a table into a general plan (sqlglot -> plan).

:func:`symjax.sql.query.parse.parse_sql` tries the sampler's step plan first; SQL outside
it comes here and becomes a :class:`~symjax.sql.query.plan.SelectQuery` or
:class:`~symjax.sql.query.plan.Compound` over general expressions, which
:mod:`symjax.sql.query.general` executes. Names resolve as SQLite resolves them: table
``w`` only (any other table is a :class:`~symjax.errors.SqlError` naming it), identifiers
case-insensitive for ASCII letters only, output aliases usable in ``ORDER BY`` (first) and
in the other clauses (after the table's columns). What the general executor cannot do
exactly raises :class:`~symjax.errors.UnsupportedSqlError` naming the construct in SQL
terms (``ROUND``, ``JOIN``, ``a correlated sub-select``, ...).
"""
from __future__ import annotations

from typing import Any

from symjax.errors import SqlError, UnsupportedSqlError
from symjax.sql.query.parse import sql_text, sqlglot_exp
from symjax.sql.query.plan import (
    ROWID,
    AggregateCall,
    BetweenExpr,
    Binary,
    Case,
    Column,
    Compound,
    DerivedSource,
    Exists,
    Function,
    GeneralQuery,
    InQuery,
    InValues,
    IsNull,
    LikeExpr,
    Literal,
    Output,
    SelectQuery,
    SortKey,
    Subquery,
    TableSource,
    Unary,
)
from symjax.sql.query.values import INT64_MAX, INT64_MIN, fold_ascii
from symjax.sql.table import Table

__all__ = ["parse_general", "MAX_NESTING"]

MAX_NESTING = 200  # parentheses and sub-selects nested deeper are refused (typed error)
_ROWID_NAMES = ("rowid", "_rowid_", "oid")
_SELECT_KEYS = {"expressions", "from", "from_", "where", "group", "having", "order", "limit",
                "offset", "distinct", "kind"}
_SQL_NAMES = {  # sqlglot node class -> the construct in SQL terms, for error messages
    "Join": "JOIN", "With": "WITH (common table expression)", "Window": "window function (OVER)",
    "Cast": "CAST", "TryCast": "CAST", "Glob": "GLOB", "ILike": "ILIKE", "Round": "ROUND",
    "GroupConcat": "GROUP_CONCAT", "Greatest": "MAX with several arguments (scalar MAX)",
    "Least": "MIN with several arguments (scalar MIN)", "Substring": "SUBSTR", "Collate": "COLLATE",
    "Values": "VALUES", "Star": "*", "Lateral": "LATERAL", "Pivot": "PIVOT", "RegexpLike": "REGEXP",
    "Trim": "TRIM", "Replace": "REPLACE", "StrPosition": "INSTR", "Bracket": "[...]",
    "Placeholder": "a parameter (?)", "Parameter": "a parameter", "Distinct": "DISTINCT",
    "Escape": "ESCAPE", "Tuple": "a row value (a, b)",
}


def construct_name(node: Any) -> str:
    """What a sqlglot node is, in SQL terms (``IS NOT NULL``, ``ROUND``, ``JOIN``)."""
    exp = sqlglot_exp()
    if isinstance(node, exp.Not) and isinstance(node.this, exp.Is):
        return "IS NOT"
    if isinstance(node, exp.Anonymous):
        return f"function {str(node.name).upper()}"
    name = type(node).__name__
    if name in _SQL_NAMES:
        return _SQL_NAMES[name]
    if isinstance(node, exp.Func):
        return f"function {node.sql_name()}"
    return sql_text(node)[:60]


def nesting_depth(sql: str) -> int:
    """Deepest nesting of parentheses outside quoted text (each sub-select adds one)."""
    depth = best = 0
    quote = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == "(":
            depth += 1
            best = max(best, depth)
        elif ch == ")":
            depth -= 1
    return best


class _Scope:
    """The columns a query's clauses see: its source's, plus its output aliases."""

    __slots__ = ("names", "index", "qualifiers", "has_rowid", "aliases", "outer")

    def __init__(self, names, qualifiers, has_rowid, outer):
        self.names = list(names)
        self.index: dict[str, int] = {}
        for j, n in enumerate(self.names):
            self.index.setdefault(fold_ascii(n), j)
        self.qualifiers = qualifiers  # folded names a column may be qualified with
        self.has_rowid = has_rowid
        self.aliases: dict[str, Any] = {}  # folded alias -> (position, expression)
        self.outer = outer

    def lookup(self, name: str) -> int | None:
        j = self.index.get(fold_ascii(name))
        if j is None and self.has_rowid and fold_ascii(name) in _ROWID_NAMES:
            return ROWID
        return j


class _GeneralParser:
    def __init__(self, table: Table):
        self.table = table
        self.exp = sqlglot_exp()

    # ------------------------------------------------------------------ errors
    def unsupported(self, node: Any, what: str | None = None) -> UnsupportedSqlError:
        name = what or construct_name(node)
        return UnsupportedSqlError(
            f"unsupported SQL construct {name} in {sql_text(node)!r}; symjax executes single-table "
            "SQL over w: SELECT with expressions, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, "
            "sub-selects, IN, EXISTS, CASE, UNION/INTERSECT/EXCEPT and the functions ABS, "
            "LENGTH, LOWER, UPPER, COALESCE, IFNULL, COUNT, SUM, AVG, TOTAL, MIN, MAX"
        )

    def strip(self, node: Any) -> Any:
        while isinstance(node, self.exp.Paren):
            node = node.this
        return node

    # ------------------------------------------------------------------ queries
    def query(self, node: Any, outer: _Scope | None) -> GeneralQuery:
        exp = self.exp
        node = self.strip(node)
        if isinstance(node, exp.Subquery):
            if node.args.get("alias") is not None:
                raise self.unsupported(node, "an aliased sub-select used as a query")
            return self.query(node.this, outer)
        if isinstance(node, (exp.Union, exp.Intersect, exp.Except)):
            return self.compound(node, outer)
        if isinstance(node, exp.Select):
            return self.select(node, outer)
        raise self.unsupported(node)

    def compound(self, node: Any, outer: _Scope | None) -> Compound:
        exp = self.exp
        distinct = node.args.get("distinct", True) is not False
        if isinstance(node, exp.Union):
            op = "UNION" if distinct else "UNION ALL"
        else:
            op = "INTERSECT" if isinstance(node, exp.Intersect) else "EXCEPT"
            if not distinct:
                raise self.unsupported(node, f"{op} ALL")
        for key, value in node.args.items():
            if value and key not in ("this", "expression", "distinct", "order", "limit", "offset"):
                raise self.unsupported(node, key.upper())
        left = self.query(node.this, outer)
        right = self.query(node.expression, outer)
        names = _output_names(left)
        order_by = ()
        order = node.args.get("order")
        if order is not None:
            keys = []
            for k, o in enumerate(order.expressions, 1):
                key = self.strip(o.this)
                index = None
                if isinstance(key, exp.Literal) and not key.is_string and key.this.isdigit():
                    index = int(key.this) - 1
                elif isinstance(key, exp.Column) and not key.table:
                    folded = [fold_ascii(n) for n in names]
                    if fold_ascii(key.name) in folded:
                        index = folded.index(fold_ascii(key.name))
                if index is None or not 0 <= index < len(names):
                    raise SqlError(
                        f"ORDER BY term {k} ({sql_text(o.this)!r}) of a compound SELECT does not match a "
                        f"result column; order by a column position (1..{len(names)}) or name {names}"
                    )
                keys.append(self.sort_key(o, Output(index)))
            order_by = tuple(keys)
        limit, offset = self.limit(node, None)
        return Compound(op, left, right, order_by, limit, offset)

    def source(self, node: Any, outer: _Scope | None):
        exp = self.exp
        src = node.args.get("from_") or node.args.get("from")
        if src is None:
            return None, _Scope((), (), False, outer)
        if node.args.get("joins"):
            raise self.unsupported(node.args["joins"][0], "JOIN")
        this = src.this
        if isinstance(this, exp.Table):
            name = this.name
            db = this.args.get("db")
            if fold_ascii(name) != "w" or (db is not None and fold_ascii(db.name) not in ("main", "temp")) \
                    or this.args.get("catalog") is not None:
                raise SqlError(
                    f"no such table: {sql_text(this)!r}; the table is named w (write FROM w)"
                )
            for key, value in this.args.items():
                if value and key not in ("this", "alias", "db"):
                    raise self.unsupported(this, key.upper())
            alias = this.alias or None
            qualifiers = (fold_ascii(alias),) if alias else ("w",)
            return TableSource(alias), _Scope(self.table.header, qualifiers, True, outer)
        if isinstance(this, exp.Subquery):
            inner = self.query(this.this, outer)
            alias = this.alias or None
            qualifiers = (fold_ascii(alias),) if alias else ()
            return DerivedSource(inner, alias), _Scope(_output_names(inner), qualifiers, False, outer)
        raise self.unsupported(this, f"FROM {construct_name(this)}")

    def select(self, node: Any, outer: _Scope | None) -> SelectQuery:
        exp = self.exp
        for key, value in node.args.items():
            if value and key not in _SELECT_KEYS and key != "joins":
                raise self.unsupported(node, {"with": "WITH (common table expression)"}.get(key, key.upper()))
        distinct = node.args.get("distinct")
        if distinct is not None and distinct.args.get("on") is not None:
            raise self.unsupported(node, "DISTINCT ON")
        source, scope = self.source(node, outer)
        columns: list[Any] = []
        names: list[str] = []
        for e in node.expressions:
            e = self.strip(e)
            if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)):
                if source is None:
                    raise SqlError("SELECT * needs a FROM clause (SELECT * FROM w)")
                if isinstance(e, exp.Column) and fold_ascii(e.table) not in scope.qualifiers:
                    raise SqlError(f"no such table: {e.table!r} in {sql_text(e)!r}; the table is w")
                for j, n in enumerate(scope.names):
                    columns.append(Column(j))
                    names.append(n)
                continue
            alias = None
            if isinstance(e, exp.Alias):
                alias = e.alias
                e = e.this
            expr = self.expr(e, scope, aggregates=True)
            columns.append(expr)
            names.append(alias if alias else (e.name if isinstance(e, exp.Column) else sql_text(e)))
            if alias:
                scope.aliases.setdefault(fold_ascii(alias), (len(columns) - 1, expr))
        where = node.args.get("where")
        group = node.args.get("group")
        having = node.args.get("having")
        order = node.args.get("order")
        order_by = ()
        if order is not None:
            keys = []
            for o in order.expressions:
                key = self.strip(o.this)
                if isinstance(key, exp.Literal) and not key.is_string and key.this.isdigit():
                    k = int(key.this)
                    if not 1 <= k <= len(columns):
                        raise SqlError(f"ORDER BY term {k} is out of range: the result has {len(columns)} columns")
                    keys.append(self.sort_key(o, Output(k - 1)))
                elif isinstance(key, exp.Column) and not key.table and fold_ascii(key.name) in scope.aliases:
                    keys.append(self.sort_key(o, Output(scope.aliases[fold_ascii(key.name)][0])))
                else:
                    keys.append(self.sort_key(o, self.expr(key, scope, aggregates=True)))
            order_by = tuple(keys)
        group_by = ()
        if group is not None:
            items = []
            for g in group.expressions:
                g = self.strip(g)
                if isinstance(g, exp.Literal) and not g.is_string and g.this.isdigit():
                    k = int(g.this)
                    if not 1 <= k <= len(columns):
                        raise SqlError(f"GROUP BY term {k} is out of range: the result has {len(columns)} columns")
                    items.append(columns[k - 1])
                else:
                    items.append(self.expr(g, scope, aggregates=False))
            group_by = tuple(items)
        limit, offset = self.limit(node, scope)
        return SelectQuery(
            tuple(columns),
            tuple(names),
            source,
            where=None if where is None else self.expr(where.this, scope, aggregates=False),
            group_by=group_by,
            having=None if having is None else self.expr(having.this, scope, aggregates=True),
            order_by=order_by,
            limit=limit,
            offset=offset,
            distinct=distinct is not None,
        )

    def sort_key(self, o: Any, expr: Any) -> SortKey:
        desc = bool(o.args.get("desc"))
        nulls_first = o.args.get("nulls_first")
        if nulls_first is None:
            nulls_first = not desc
        return SortKey(expr, desc, bool(nulls_first))

    def limit(self, node: Any, scope: _Scope | None):
        limit = offset = None
        lim = node.args.get("limit")
        empty = _Scope((), (), False, None)
        if lim is not None:
            if lim.args.get("offset") is not None:
                offset = self.expr(lim.args["offset"], empty, aggregates=False)
            limit = self.expr(lim.expression, empty, aggregates=False)
        off = node.args.get("offset")
        if off is not None:
            offset = self.expr(off.expression, empty, aggregates=False)
        return limit, offset

    # ------------------------------------------------------------------ expressions
    def column(self, node: Any, scope: _Scope) -> Any:
        name, qualifier = node.name, node.table
        if node.args.get("db") is not None or node.args.get("catalog") is not None:
            raise self.unsupported(node, "a column qualified by a database name")
        if qualifier:
            q = fold_ascii(qualifier)
            if q in scope.qualifiers:
                j = scope.lookup(name)
                if j is not None:
                    return Column(j)
                raise SqlError(f"no such column: {sql_text(node)!r}; the columns are {scope.names}")
            s = scope.outer
            while s is not None:
                if q in s.qualifiers:
                    raise self.unsupported(node, "a correlated sub-select (a column of an outer query)")
                s = s.outer
            raise SqlError(f"no such column: {sql_text(node)!r}: no table {qualifier!r} here; the table is w")
        j = scope.lookup(name)
        if j is not None:
            return Column(j)
        alias = scope.aliases.get(fold_ascii(name))
        if alias is not None:
            return alias[1]
        s = scope.outer
        while s is not None:
            if s.lookup(name) is not None:
                raise self.unsupported(node, "a correlated sub-select (a column of an outer query)")
            s = s.outer
        raise SqlError(
            f"unknown column {name!r} in {sql_text(node)!r}; the columns are {scope.names} "
            "(names match case-insensitively for ASCII letters only, as in SQLite)"
        )

    def literal(self, node: Any) -> Literal:
        if node.is_string:
            return Literal(node.this)
        text = node.this
        try:
            if text.lower().startswith("0x"):
                value = int(text, 16)
                if value > INT64_MAX:
                    raise SqlError(f"hex literal too big: {text!r}")
                return Literal(value)
            value = int(text)
            return Literal(value if INT64_MIN <= value <= INT64_MAX else float(text))
        except ValueError:
            try:
                return Literal(float(text))
            except ValueError:
                raise SqlError(f"malformed number {text!r}") from None

    def expr(self, node: Any, scope: _Scope, *, aggregates: bool, in_aggregate: bool = False) -> Any:
        exp = self.exp
        node = self.strip(node)

        def sub(n: Any) -> Any:
            return self.expr(n, scope, aggregates=aggregates, in_aggregate=in_aggregate)

        if isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):
                raise self.unsupported(node)
            return self.column(node, scope)
        if isinstance(node, exp.Literal):
            return self.literal(node)
        if isinstance(node, exp.Null):
            return Literal(None)
        if isinstance(node, exp.Boolean):
            return Literal(1 if node.this else 0)
        if isinstance(node, exp.Neg):
            inner = self.strip(node.this)
            if isinstance(inner, exp.Literal) and not inner.is_string and inner.this == str(2**63):
                return Literal(INT64_MIN)
            return Unary("-", sub(node.this))
        if isinstance(node, exp.Not):
            inner = self.strip(node.this)
            if isinstance(inner, exp.Is) and isinstance(self.strip(inner.expression), exp.Null):
                return IsNull(sub(inner.this), negated=True)
            negatable = sub(inner)
            if isinstance(negatable, (InValues, InQuery, BetweenExpr, LikeExpr, Exists)) and not negatable.negated:
                negatable.negated = True
                return negatable
            return Unary("NOT", negatable)
        if isinstance(node, exp.Is):
            right = self.strip(node.expression)
            if isinstance(right, exp.Null):
                return IsNull(sub(node.this))
            return Binary("IS", sub(node.this), sub(right))
        binary = _BINARY.get(type(node).__name__)
        if binary is not None:
            if isinstance(node, exp.Div) and node.args.get("typed") is False:
                raise self.unsupported(node, "/ with non-SQLite division")
            if binary in ("AND", "OR"):
                return self.chain(node, binary, sub)
            return Binary(binary, sub(node.this), sub(node.expression))
        if isinstance(node, exp.In):
            if node.args.get("unnest") is not None or node.args.get("field") is not None:
                raise self.unsupported(node, "IN over something other than a list or a sub-select")
            query = node.args.get("query")
            if query is not None:
                return InQuery(sub(node.this), self.query(query, scope))
            return InValues(sub(node.this), tuple(sub(v) for v in node.expressions))
        if isinstance(node, exp.Between):
            if node.args.get("symmetric"):
                raise self.unsupported(node, "BETWEEN SYMMETRIC")
            return BetweenExpr(sub(node.this), sub(node.args["low"]), sub(node.args["high"]))
        if isinstance(node, exp.Escape) and isinstance(self.strip(node.this), exp.Like):
            like = sub(node.this)
            esc = self.strip(node.expression)
            if not (isinstance(esc, exp.Literal) and esc.is_string and len(esc.this) == 1):
                raise SqlError(f"ESCAPE expression must be a single character: {sql_text(node)!r}")
            like.escape = esc.this
            return like
        if isinstance(node, exp.Like):
            return LikeExpr(sub(node.this), sub(node.expression), negated=bool(node.args.get("negate")))
        if isinstance(node, exp.Exists):
            return Exists(self.query(node.this, scope))
        if isinstance(node, exp.Subquery):
            return Subquery(self.query(node.this, scope))
        if isinstance(node, exp.Case):
            whens = tuple((sub(i.this), sub(i.args["true"])) for i in node.args.get("ifs") or ())
            operand = node.this
            default = node.args.get("default")
            return Case(None if operand is None else sub(operand), whens, None if default is None else sub(default))
        agg = self.aggregate(node, scope, aggregates, in_aggregate)
        if agg is not None:
            return agg
        func = self.function(node, sub)
        if func is not None:
            return func
        raise self.unsupported(node)

    def chain(self, node: Any, op: str, sub) -> Any:
        """``a AND b AND c ...`` without recursing once per term."""
        cls = type(node)
        terms = []
        stack = [node]
        while stack:
            n = self.strip(stack.pop())
            if type(n) is cls:
                stack.append(n.expression)
                stack.append(n.this)
            else:
                terms.append(sub(n))
        out = terms[0]
        for t in terms[1:]:
            out = Binary(op, out, t)
        return out

    def aggregate(self, node: Any, scope: _Scope, aggregates: bool, in_aggregate: bool) -> Any:
        exp = self.exp
        funcs = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max"}
        name = funcs.get(type(node))
        if name is None and isinstance(node, exp.Anonymous) and str(node.name).lower() == "total":
            name = "total"
        if name is None:
            return None
        if not aggregates or in_aggregate:
            where = "inside another aggregate" if in_aggregate else "in WHERE, GROUP BY or LIMIT"
            raise SqlError(f"misuse of aggregate {name.upper()} {where}: {sql_text(node)!r}")
        args = [node.this] if name != "total" else list(node.expressions)
        if name != "total" and node.expressions:
            raise self.unsupported(node, f"{name.upper()} with several arguments (scalar {name.upper()})")
        if len(args) != 1 or args[0] is None:
            if name == "count" and (not args or args == [None]):
                return AggregateCall("count", None)
            raise SqlError(f"wrong number of arguments to {name.upper()}: {sql_text(node)!r}")
        arg = self.strip(args[0])
        if isinstance(arg, exp.Star):
            if name != "count":
                raise SqlError(f"{name.upper()}(*) is not valid SQL: {sql_text(node)!r}")
            return AggregateCall("count", None)
        distinct = False
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                raise SqlError(f"DISTINCT aggregates must have exactly one argument: {sql_text(node)!r}")
            distinct = True
            arg = arg.expressions[0]
        inner = self.expr(arg, scope, aggregates=True, in_aggregate=True)
        return AggregateCall(name, inner, distinct)

    def function(self, node: Any, sub) -> Any:
        exp = self.exp
        one = {exp.Abs: "abs", exp.Length: "length", exp.Lower: "lower", exp.Upper: "upper"}
        name = one.get(type(node))
        if name is not None:
            extra = [k for k, v in node.args.items() if v and k != "this"]
            if extra or node.this is None:
                raise self.unsupported(node, f"{name.upper()} with arguments {extra}")
            return Function(name, (sub(node.this),))
        if isinstance(node, exp.Coalesce):
            args = [node.this, *node.expressions]
            if len(args) < 2:
                raise SqlError(f"wrong number of arguments to COALESCE: {sql_text(node)!r}")
            return Function("coalesce", tuple(sub(a) for a in args))
        return None


_BINARY = {
    "Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Mod": "%", "DPipe": "||",
    "EQ": "=", "NEQ": "!=", "LT": "<", "GT": ">", "LTE": "<=", "GTE": ">=",
    "NullSafeEQ": "IS", "NullSafeNEQ": "IS NOT", "And": "AND", "Or": "OR",
}


def _output_names(query: GeneralQuery) -> list[str]:
    while not isinstance(query, SelectQuery):
        query = query.left
    return list(query.names)


def parse_general(statement: Any, table: Table) -> GeneralQuery:
    """A sqlglot statement over ``table`` (named ``w``) as a general plan."""
    return _GeneralParser(table).query(statement, None)
