"""After filing (备案之后): the register of documents in force (统一登记、有效期、清理), the filing
authority's review and corrections (有件必审、有错必纠), and the register's decisions (继续有效/修改/废止)."""
